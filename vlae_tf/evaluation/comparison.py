"""Side-by-side report of several evaluated models (``vlae-compare``), and the paper's claims as checks.

``results`` is ``{model name: evaluate_run.evaluate_model(...) dict}``, in column order. The claims
(Zhao, Song & Ermon 2017, sections 3 and 5) are checked on the numbers, with thresholds fixed here:

- ``vlae_colour_on_rung_1``: the VLAE's lowest rung holds the colour factors best (``bg_color``,
  ``fg_color``: highest rung-factor NMI among its rungs);
- ``vlae_shape_on_top_rung``: its top rung holds shape identity (``shape``) best;
- ``hvae_upper_rungs_small``: the HVAE's rungs above the first carry together less than
  ``UPPER_SHARE_SMALL`` of its total KL (the redundancy argument of section 3);
- ``vlae_rungs_substantial``: every VLAE rung carries at least ``RUNG_SHARE_SUBSTANTIAL`` of its total KL.
"""

from __future__ import annotations

from typing import Mapping

from vlae_tf.data.shapes import COLOUR_FACTORS
from vlae_tf.evaluation.report import _fmt, _table

SHAPE_FACTOR = "shape"
UPPER_SHARE_SMALL = 0.10
RUNG_SHARE_SUBSTANTIAL = 0.15


def claims(results: Mapping[str, dict]) -> dict:
    """{claim name: {"holds": bool, "measured": str}} for the claims whose models and factors are present."""
    out = {}
    vlae, hvae = results.get("vlae"), results.get("hvae")
    if vlae is not None and "factor_rung" in vlae:
        top = len(vlae["kl_per_rung"])
        colours = {f: vlae["factor_rung"][f] for f in COLOUR_FACTORS if f in vlae["factor_rung"]}
        if colours:
            out["vlae_colour_on_rung_1"] = {"holds": all(r == 1 for r in colours.values()),
                                            "measured": ", ".join(f"{f} -> rung {r}" for f, r in colours.items())}
        if SHAPE_FACTOR in vlae["factor_rung"]:
            rung = vlae["factor_rung"][SHAPE_FACTOR]
            out["vlae_shape_on_top_rung"] = {"holds": rung == top, "measured": f"shape -> rung {rung} of {top}"}
    if hvae is not None and len(hvae["kl_share_per_rung"]) > 1:
        upper = sum(hvae["kl_share_per_rung"][1:])
        out["hvae_upper_rungs_small"] = {"holds": upper < UPPER_SHARE_SMALL,
                                         "measured": f"rungs 2..L carry {upper:.1%} of the HVAE's KL "
                                                     f"(threshold {UPPER_SHARE_SMALL:.0%})"}
    if vlae is not None:
        shares = vlae["kl_share_per_rung"]
        out["vlae_rungs_substantial"] = {"holds": min(shares) >= RUNG_SHARE_SUBSTANTIAL,
                                         "measured": "VLAE KL shares " + ", ".join(f"{s:.1%}" for s in shares)
                                                     + f" (threshold {RUNG_SHARE_SUBSTANTIAL:.0%} each)"}
    return out


def _per_rung_rows(results, key, fmt):
    num_rungs = max(len(r[key]) for r in results.values())
    return [[rung] + [fmt(r, rung - 1) if rung <= len(r[key]) else "" for r in results.values()]
            for rung in range(1, num_rungs + 1)]


def markdown(results: Mapping[str, dict], title: str = "Comparison", extra: Mapping[str, dict] | None = None) -> str:
    """comparison.md: every table of ``report.markdown`` with one column per model, then the claims."""
    names = list(results)
    any_result = next(iter(results.values()))
    lines = [f"# {title}", "", f"{any_result['dataset']}, {any_result['split']} split "
             f"({any_result['num_examples']} images); rungs numbered 1..L from the pixels up.", ""]
    rows = [["ELBO (nats)"] + [_fmt(r["elbo"]) for r in results.values()],
            ["IWAE bound (nats)"] + [_fmt(r.get("iwae")) for r in results.values()],
            ["ELBO on the IWAE subset"] + [_fmt(r.get("iwae_elbo")) for r in results.values()],
            ["bits per dim (ELBO)"] + [_fmt(r["bits_per_dim"], 4) for r in results.values()],
            ["reconstruction (nats)"] + [_fmt(r["recon"]) for r in results.values()],
            ["KL (nats)"] + [_fmt(r["kl"]) for r in results.values()]]
    if any("mig" in r for r in results.values()):
        rows += [["MIG"] + [_fmt(r.get("mig"), 3) for r in results.values()],
                 ["MIG-sup"] + [_fmt(r.get("mig_sup"), 3) for r in results.values()]]
    for key, label in (("train_seconds", "training time (s)"), ("train_steps", "training steps")):
        if extra and any(key in e for e in extra.values()):
            rows.append([label] + [_fmt((extra.get(n) or {}).get(key), 0) for n in names])
    lines += ["## Summary", ""] + _table(["quantity"] + names, rows)
    lines += ["", "## KL per rung, nats (share of the model's total KL)", ""]
    lines += _table(["rung"] + names, _per_rung_rows(
        results, "kl_per_rung", lambda r, i: f"{r['kl_per_rung'][i]:.2f} ({r['kl_share_per_rung'][i]:.0%})"))
    lines += ["", "## Active units per rung (variance over x of the posterior mean > 0.01)", ""]
    lines += _table(["rung"] + names, _per_rung_rows(
        results, "active_units_per_rung", lambda r, i: f"{r['active_units_per_rung'][i]}/{r['latent_dims'][i]}"))
    factored = {n: r for n, r in results.items() if "factor_rung" in r}
    if factored:
        factor_names = next(iter(factored.values()))["factor_names"]
        lines += ["", "## Rung that captures each factor (its normalised MI with that rung)", ""]
        rows = [[f] + [f"rung {r['factor_rung'][f]} ({max(row[k] for row in r['rung_factor_nmi']):.2f})"
                       for r in factored.values()] for k, f in enumerate(factor_names)]
        lines += _table(["factor"] + list(factored), rows)
        for name, r in factored.items():
            lines += ["", f"### {name}: normalised MI, rung x factor", ""]
            lines += _table(["rung"] + factor_names, [[rung] + [_fmt(v) for v in values]
                                                      for rung, values in enumerate(r["rung_factor_nmi"], start=1)])
    probed = {n: r for n, r in results.items() if "probe_accuracy_per_rung" in r}
    if probed:
        lines += ["", "## Label probes per rung: logistic / k-NN accuracy", ""]
        lines += _table(["rung"] + list(probed), _per_rung_rows(
            probed, "probe_accuracy_per_rung",
            lambda r, i: f"{r['probe_accuracy_per_rung'][i]['logistic']:.3f} / "
                         f"{r['probe_accuracy_per_rung'][i]['knn']:.3f}"))
    checks = claims(results)
    if checks:
        lines += ["", "## The paper's claims, checked", ""]
        lines += _table(["claim", "holds", "measured"],
                        [[name, "yes" if c["holds"] else "**no**", c["measured"]] for name, c in checks.items()])
    return "\n".join(lines) + "\n"
