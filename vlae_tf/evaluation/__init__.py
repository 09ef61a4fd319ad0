"""Model-independent evaluation: pure numpy / scikit-learn functions of codes, factors and log weights.

- information: histogram mutual information between codes and factors, per dimension and per rung.
- mig: MIG (disentanglement_lib) and MIG-sup (pro-VLAE).
- active_units: Burda et al.'s active units, per rung.
- probes: logistic and k-NN probe accuracies, per rung.
- bounds: ELBO, IWAE bound (batched over samples), bits per dimension.

Model-dependent modules, imported by name (they load TensorFlow and the data pipelines):

- model_metrics: posterior codes, ELBO terms and IWAE log weights of a trained model, batched.
- evaluate_run: everything ``vlae-eval`` measures, as one JSON-ready dict.
- report / figures: eval.json, eval.md and PNG figures in a run folder; ``make demo``'s factor -> rung lines.
- comparison: the side-by-side report of ``vlae-compare`` and the paper's claims as checks.

The functions ``mig`` and ``active_units`` re-exported here shadow their modules' names: import the modules
as ``from vlae_tf.evaluation.mig import mig_sup`` rather than through this package's attributes.
"""

from vlae_tf.evaluation.active_units import (
    active_unit_mask,
    active_units,
    active_units_per_rung,
    unit_activity,
)
from vlae_tf.evaluation.bounds import (
    batched_bounds,
    batched_iwae,
    bits_per_dim,
    elbo_from_log_weights,
    iwae_bound,
    log_mean_exp,
)
from vlae_tf.evaluation.information import (
    discretize,
    factor_entropies,
    factor_rung_assignment,
    mutual_information_matrix,
    normalized_mutual_information,
    rung_factor_information,
)
from vlae_tf.evaluation.mig import mig, mig_sup
from vlae_tf.evaluation.probes import probe_accuracy, probe_per_rung
