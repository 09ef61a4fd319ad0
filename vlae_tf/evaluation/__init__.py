"""Model-independent evaluation: pure numpy / scikit-learn functions of codes, factors and log weights.

- information: histogram mutual information between codes and factors, per dimension and per rung.
- probe_information: the non-saturating rung x factor bound from a cross-validated probe's log-loss.
- sampled_information: I(z_j; v_k) sampled from q(z|x) over the aggregate posterior (Chen et al. 2018).
- mig: MIG (disentanglement_lib) and MIG-sup (pro-VLAE), from either estimator.
- active_units: Burda et al.'s active units, per rung.
- probes: logistic and k-NN probe accuracies, per rung.
- bounds: ELBO, IWAE bound (batched over samples), bits per dimension.
- fidelity: factor fidelity of reconstructions and traversal specificity, from encode/decode callables.

Model-dependent modules, imported by name (they load TensorFlow and the data pipelines):

- model_metrics: posterior codes, ELBO terms and IWAE log weights of a trained model, batched.
- factor_classifier: the cached per-factor CNN that ``fidelity`` judges images with.
- evaluate_run: everything ``vlae-eval`` measures, as one JSON-ready dict.
- report / figures: eval.json, eval.md and PNG figures in a run folder; ``make demo``'s factor -> rung lines.
- comparison: the side-by-side report of ``vlae-compare`` and the paper's claims as checks.

Functions named like their modules (``mig.mig``, ``active_units.active_units``,
``probe_information.probe_information``) are not re-exported here: the package attribute stays the module.
"""

from vlae_tf.evaluation.active_units import active_unit_mask, active_units_per_rung, unit_activity
from vlae_tf.evaluation.bounds import (
    batched_bounds,
    batched_iwae,
    bits_per_dim,
    elbo_from_log_weights,
    iwae_bound,
    log_mean_exp,
)
from vlae_tf.evaluation.fidelity import reconstruction_fidelity, traversal_specificity
from vlae_tf.evaluation.information import (
    discretize,
    factor_entropies,
    factor_rung_assignment,
    mutual_information_matrix,
    normalized_mutual_information,
    rung_factor_information,
)
from vlae_tf.evaluation.mig import mig_sampled, mig_sup, mig_sup_sampled
from vlae_tf.evaluation.probe_information import rung_factor_probe_information
from vlae_tf.evaluation.probes import probe_accuracy, probe_per_rung
from vlae_tf.evaluation.sampled_information import sampled_mutual_information
