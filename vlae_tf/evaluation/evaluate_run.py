"""Everything ``vlae-eval`` measures about one trained model, as a JSON-ready dict.

``evaluate_model(model, config)`` returns, rungs numbered 1..L from the pixels up:

- ``model``, ``dataset``, ``split``, ``num_examples``, ``latent_dims``, ``likelihood``;
- ``elbo``, ``recon``, ``kl``, ``kl_per_rung`` (nats per image, over the split) with ``kl_share_per_rung``
  and ``bits_per_dim`` (``-elbo / (H W C ln 2)``; for a Gaussian, a density on [0, 1], the 8-bit
  discretisation term ``H W C ln 256`` is added first, as ``bounds.bits_per_dim`` asks);
- ``iwae`` (IWAE bound with ``iwae_samples`` samples on the first ``iwae_examples`` images), with
  ``iwae_elbo``, the ELBO from the same samples (``iwae >= iwae_elbo``), and ``iwae_bits_per_dim``;
- ``active_units_per_rung`` and ``unit_activity_per_rung`` (variance over x of each posterior mean);
- with ground-truth factors: ``factor_names``, ``rung_factor_nmi`` [L][F], ``dim_factor_nmi`` [D][F],
  ``mig``, ``mig_per_factor``, ``mig_sup``, ``factor_rung`` (factor -> rung number);
  ``rung_factor_probe_nmi`` [L][F] (with ``rung_factor_probe_se``, ``rung_factor_probe_family`` naming the
  probe, logistic or MLP, that gave each cell, and ``rung_factor_probe_nmi_by_family``), the non-saturating
  probe bound that ``factor_rung`` is read from (``rung_factor_nmi`` is the older k-means/best-dimension estimate, kept);
  ``mig_sampled``, ``mig_sampled_per_factor``, ``mig_sup_sampled``, ``dim_factor_nmi_sampled`` (MI sampled from
  q(z|x), Chen et al.); ``estimators`` names the estimator behind each of these keys;
- with factors or labels (``EvalOptions.fidelity``): ``fidelity`` (per factor: classifier accuracy on originals and
  reconstructions, their ratio), ``traversal_specificity`` (rung x factor change rates, ``fidelity.traversal_specificity``,
  the moved rung drawn from the prior) and ``traversal_specificity_swap`` (the same, the moved rung given
  another test image's code: moves between real codes only), and ``fidelity_classifier`` (its cache key and training accuracy); where the data set has a renderer
  (``shapes``) also ``sample_validity``, the share of prior samples as close to a drawing of the shape they
  show as the model's reconstructions are (``sample_validity.sample_validity``);
- with class labels: ``probe_accuracy_per_rung`` (one ``{logistic, knn, chance}`` per rung).
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np

from vlae_tf import data
from vlae_tf.config import SPLITS
from vlae_tf.evaluation import (factor_classifier, fidelity, information, model_metrics, probe_information, probes,
                                progress, sample_validity)
# Functions named like their modules (mig.mig): imported from the modules themselves.
from vlae_tf.evaluation.active_units import active_units_per_rung, unit_activity
from vlae_tf.evaluation.bounds import bits_per_dim
from vlae_tf.evaluation.mig import mig as mig_score
from vlae_tf.evaluation.mig import ESTIMATOR_NAMES as MIG_ESTIMATORS
from vlae_tf.evaluation.mig import mig_sampled, mig_sup_sampled
from vlae_tf.evaluation.mig import mig_sup as mig_sup_score
from vlae_tf.evaluation.sampled_information import sampled_mutual_information

PROPER_LIKELIHOODS = ("bernoulli", "gaussian")
FIDELITY_MODES = ("fit", "cached", "off")
# eval.json key of each traversal specificity -> how the moved rung moves (fidelity.TRAVERSAL_MODES)
SPECIFICITY_KEYS = {"traversal_specificity": "prior", "traversal_specificity_swap": "swap"}
ESTIMATORS = {"rung_factor_nmi": "max(best dimension histogram, 20-cluster k-means); saturates near log 20 nats",
              "rung_factor_probe_nmi": probe_information.ESTIMATOR_NAME,
              "factor_rung": f"argmax over rungs of rung_factor_probe_nmi ({probe_information.ESTIMATOR_NAME})",
              "mig": f"mig ({MIG_ESTIMATORS['histogram']})", "mig_sup": f"mig_sup ({MIG_ESTIMATORS['histogram']})",
              "mig_sampled": f"mig ({MIG_ESTIMATORS['sampled']})",
              "mig_sup_sampled": f"mig_sup ({MIG_ESTIMATORS['sampled']})"}


@dataclasses.dataclass(frozen=True)
class EvalOptions:
    """What to measure and on how much data; the defaults take about a minute on 2 CPU cores for shapes."""

    split: str = "test"
    max_examples: int | None = None  # None: the whole split (ELBO, codes, information)
    iw_samples: int = 100  # K of the IWAE bound (0 skips it); K = 1000 works, it is only slower
    iw_examples: int = 500  # images the IWAE bound is averaged over (the first ones of the split)
    probe_train_examples: int = 10000  # training images whose codes fit the probes (0 skips the probes)
    num_bins: int = 20  # histogram bins for the mutual information (disentanglement_lib's default)
    seed: int = 0
    sampled_mi_draws: int = 2000  # Monte Carlo draws of the sampled-q(z|x) MIGs (SE ~1e-3 nats; ~15 s for shapes; 0 skips)
    # Factor fidelity needs a classifier of the true images: "fit" trains and caches one when neither the cache
    # nor the package (shapes' default) holds one, "cached" uses one only if held, "off" skips fidelity.
    fidelity: str = "fit"
    classifier_cache: str | None = None  # None: factor_classifier.default_cache_dir()
    fidelity_examples: int = 2000  # images whose reconstructions are judged
    specificity_bases: int = 500  # base codes of the traversal specificity (0 skips it)
    specificity_draws: int = 2  # prior draws (and swaps) of the moved rung per base
    validity_samples: int = 1000  # prior samples checked by sample_validity where the data has a renderer (0 skips)
    progress: bool = False  # print a line per stage and a count per IWAE batch (the CLIs turn it on)

    def __post_init__(self):
        if self.split not in SPLITS:
            raise ValueError(f"split={self.split!r} is not valid; choose one of {', '.join(SPLITS)}")
        if self.fidelity not in FIDELITY_MODES:
            raise ValueError(f"fidelity={self.fidelity!r} is not valid; choose one of {', '.join(FIDELITY_MODES)}")
        for name in ("sampled_mi_draws", "fidelity_examples", "specificity_bases", "specificity_draws",
                     "validity_samples"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)!r} must be >= 0")
        for name in ("iw_samples", "iw_examples", "probe_train_examples", "num_bins"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)!r} must be >= 0")


def likelihood_metrics(model, images, options: EvalOptions, stages: progress.Stages | None = None) -> dict:
    """ELBO terms over ``images``; the IWAE bound over the first ``options.iw_examples`` of them."""
    stages = stages or progress.Stages()
    stages.start(f"ELBO over {len(images)} images")
    terms = model_metrics.elbo_terms(model, images)
    num_rungs = model.num_rungs
    kls = [terms[f"kl/rung_{r}"] for r in range(1, num_rungs + 1)]
    total = sum(kls)
    dims = int(np.prod(images.shape[1:]))
    proper = model.model_config.likelihood in PROPER_LIKELIHOODS
    # A density on [0, 1] exceeds 1 (positive log-likelihoods); the probability of an 8-bit pixel value is
    # about density / 256, which makes bits per dim comparable with discrete models.
    discretisation = dims * math.log(256.0) if model.model_config.likelihood == "gaussian" else 0.0

    def bits(log_likelihood):
        return float(bits_per_dim(discretisation - log_likelihood, dims))
    out = {"elbo": terms["elbo"], "recon": terms["recon"], "kl": terms["kl"], "kl_per_rung": kls,
           "kl_share_per_rung": [k / total if total > 0 else 0.0 for k in kls],
           "bits_per_dim": bits(terms["elbo"]) if proper else None,
           "iwae": None, "iwae_elbo": None, "iwae_bits_per_dim": None, "iwae_samples": 0, "iwae_examples": 0}
    if proper and options.iw_samples > 0 and options.iw_examples > 0:
        subset = images[:options.iw_examples]
        stages.start(f"IWAE bound, K={options.iw_samples}, over {len(subset)} images")
        iw = model_metrics.importance_weighted_bounds(model, subset, options.iw_samples, seed=options.seed,
                                                      progress=stages.counter(len(subset), "image"))
        out.update(iwae=float(np.mean(iw["iwae"])), iwae_elbo=float(np.mean(iw["elbo"])),
                   iwae_bits_per_dim=bits(np.mean(iw["iwae"])),
                   iwae_samples=options.iw_samples, iwae_examples=len(subset))
    return out


def factor_metrics(means_per_rung, factors, factor_names, num_bins: int = 20, seed: int = 0,
                   stddevs_per_rung=None, sampled_draws: int = 2000) -> dict:
    """Information between codes (posterior means) and ground-truth factors: per rung, per dimension, MIG.

    ``factor_rung`` is read from the probe bound; with ``stddevs_per_rung`` and ``sampled_draws`` > 0 the MIGs
    are also computed from MI sampled over q(z|x).
    """
    factors = np.asarray(factors)
    keep = [k for k in range(factors.shape[1]) if np.unique(factors[:, k]).size > 1]  # constant factors carry no MI
    factors, factor_names = factors[:, keep], [factor_names[k] for k in keep]
    codes = np.concatenate(means_per_rung, axis=1)
    rung_info = information.rung_factor_information(means_per_rung, factors, num_bins=num_bins, seed=seed)
    mig = mig_score(codes, factors, num_bins)
    mig_sup = mig_sup_score(codes, factors, num_bins)
    probe = probe_information.rung_factor_probe_information(means_per_rung, factors, seed=seed)
    out = {"factor_names": list(factor_names), "rung_factor_nmi": rung_info.tolist(),
           "dim_factor_nmi": mig["nmi"].tolist(), "mig": mig["score"],
           "mig_per_factor": dict(zip(factor_names, mig["per_factor"].tolist())), "mig_sup": mig_sup["score"],
           "rung_factor_probe_nmi": probe["nmi"].tolist(), "rung_factor_probe_se": probe["standard_error"].tolist(),
           "rung_factor_probe_family": probe["family"],
           "rung_factor_probe_nmi_by_family": {f: v.tolist() for f, v in probe["by_family"].items()},
           "factor_rung": information.factor_rung_assignment(probe["nmi"], factor_names),
           "estimators": dict(ESTIMATORS)}
    if stddevs_per_rung is not None and sampled_draws > 0:
        stddevs = np.concatenate(stddevs_per_rung, axis=1)
        info = sampled_mutual_information(codes, stddevs, factors, sampled_draws, seed)
        sampled = mig_sampled(codes, stddevs, factors, information=info)
        out.update(mig_sampled=sampled["score"], mig_sampled_per_factor=dict(zip(factor_names, sampled["per_factor"].tolist())),
                   mig_sup_sampled=mig_sup_sampled(codes, stddevs, factors, information=info)["score"],
                   dim_factor_nmi_sampled=sampled["nmi"].tolist(), sampled_mi_draws=sampled_draws)
    return out


def fidelity_metrics(model, config, images, targets, options: EvalOptions) -> dict:
    """Factor fidelity of reconstructions and rung x factor traversal specificity, judged by the data set's
    cached classifier (``factor_classifier.for_dataset``); {} when there is none and ``fidelity="cached"``.

    Base codes are posterior means and moves go through ``model.decode``: for the HVAE only z_1 reaches the
    pixels, so its upper rungs move nothing by construction.
    """
    found = factor_classifier.dataset_targets(targets)
    classifier = None if found is None else factor_classifier.for_dataset(
        config, options.classifier_cache, fit_if_missing=options.fidelity == "fit")
    if classifier is None:
        return {}
    labels, names, _ = found
    encode, decode, reconstruct = fidelity.model_callables(model)
    subset = slice(0, options.fidelity_examples)
    reconstructions = reconstruct(images[subset])  # decoded once: fidelity and sample validity both judge them
    out = {"fidelity": fidelity.reconstruction_fidelity(classifier.predict, images[subset], labels[subset],
                                                        reconstructions, names),
           "fidelity_classifier": {"key": classifier.info.get("key"),
                                   "train_accuracy": classifier.info.get("train_accuracy")}}
    if options.specificity_bases > 0:
        for key, mode in SPECIFICITY_KEYS.items():
            out[key] = fidelity.traversal_specificity(
                classifier.predict, encode, decode, images[:options.specificity_bases], options.specificity_draws,
                mode=mode, seed=options.seed, factor_names=names)
    renderer = mask_renderer(config)
    if renderer is not None and options.validity_samples > 0:
        draw_mask, search_dims = renderer
        out["sample_validity"] = sample_validity.sample_validity(
            classifier.predict, draw_mask, prior_samples(model, options.validity_samples, options.seed),
            reconstructions, originals=images[subset], search_dims=search_dims)
    return out


def mask_renderer(config):
    """(factors, offsets -> coverage masks [N, H, W], the number of continuous offsets it takes) for a
    procedural data set (``shapes``, square RGB), else None."""
    height, width, channels = config.model.image_shape
    if config.data.dataset != "shapes" or height != width or channels != 3:
        return None
    draw = lambda factors, offsets=None: data.shapes.coverage(factors, image_size=height, offsets=offsets)  # noqa: E731
    return draw, len(data.shapes.GEOMETRY_FACTORS)


def prior_samples(model, num_samples: int, seed: int = 0) -> np.ndarray:
    """[num_samples, H, W, C] decoded draws of every rung from the prior (the HVAE's through its ancestral
    noise), seeded."""
    generator_fn = model_metrics.traversal_generator(model)
    rng = np.random.default_rng(seed)
    return np.asarray(generator_fn([rng.standard_normal((num_samples, d)).astype(np.float32)
                                    for d in generator_fn.latent_dims]))


def probe_metrics(model, config, test_means, test_labels, options: EvalOptions) -> dict:
    """Per-rung logistic and k-NN probe accuracy of the class label, on rows the probes were not fitted on.

    On the test split the probes fit training-split codes; on the train split the evaluated rows are
    training rows themselves, so a held-out fifth of them is scored and the probes fit on the rest.
    """
    if options.split == "train":
        fit, score = probes.held_out_rows(len(test_labels), options.probe_train_examples, seed=options.seed)
        results = probes.probe_per_rung([m[fit] for m in test_means], test_labels[fit],
                                        [m[score] for m in test_means], test_labels[score], seed=options.seed)
        return {"probe_accuracy_per_rung": results, "probe_train_examples": len(fit),
                "probe_test_examples": len(score)}
    train_images, train_targets = data.load_arrays(config, "train", options.probe_train_examples, binarize=True)
    train_means, _ = model_metrics.posterior_codes(model, train_images)
    results = probes.probe_per_rung(train_means, train_targets["labels"], test_means, test_labels,
                                    seed=options.seed)
    return {"probe_accuracy_per_rung": results, "probe_train_examples": len(train_images),
            "probe_test_examples": len(test_labels)}


def evaluate_model(model, config, options: EvalOptions | None = None) -> dict:
    """Every metric that applies to ``model`` on ``config``'s data; see the module docstring for the keys."""
    options = options or EvalOptions()
    keras.utils.set_random_seed(options.seed)
    images, targets = data.load_arrays(config, options.split, options.max_examples, binarize=True)
    if len(images) == 0:
        raise ValueError(f"the {config.data.dataset} {options.split} split is empty")
    result = {"model": model.kind, "dataset": config.data.dataset, "split": options.split,
              "num_examples": int(len(images)), "latent_dims": list(model.model_config.latent_dims),
              "likelihood": model.model_config.likelihood}
    stages = progress.Stages(options.progress)
    result.update(likelihood_metrics(model, images, options, stages))
    stages.start("posterior codes, factor information and probes")
    means, stddevs = model_metrics.posterior_codes(model, images)
    result["unit_activity_per_rung"] = [unit_activity(m).tolist() for m in means]
    result["active_units_per_rung"] = active_units_per_rung(means)
    if "factors" in targets:
        names = targets.get("factor_names") or [f"factor_{k + 1}" for k in range(targets["factors"].shape[1])]
        result.update(factor_metrics(means, targets["factors"], list(names), options.num_bins, options.seed,
                                     stddevs, options.sampled_mi_draws))
    if "labels" in targets and np.unique(targets["labels"]).size > 1 and options.probe_train_examples > 0:
        result.update(probe_metrics(model, config, means, np.asarray(targets["labels"]), options))
    if options.fidelity != "off":
        source = "cached, shipped or fitted now" if options.fidelity == "fit" else "cached or shipped only"
        stages.start(f"fidelity of reconstructions and traversals (classifier: {source})")
        result.update(fidelity_metrics(model, config, images, targets, options))
    stages.start("done")
    return result
