"""What will it cost to deploy? Dimensions, precision, index and query prompt, from one encoding.

`deploy_sweep` encodes a model's texts once and scores every variant from those vectors with the code `eval`
uses (`tasks.scoring`), one model run per variant; `results.deploy` reads the cost table and frontier back
from the results. (The package is `deploy`, not `sweep`: `results/sweep.py` is the hybrid's weight sweep.)
"""

from embedlab.deploy.plan import DeployOptions, deploy_sweep
from embedlab.deploy.variants import Variant, parse_dims, parse_indexes, parse_precisions

__all__ = ["DeployOptions", "Variant", "deploy_sweep", "parse_dims", "parse_indexes", "parse_precisions"]
