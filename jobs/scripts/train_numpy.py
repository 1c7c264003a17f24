"""A Client API training script for a numpy model (after nvflare's hello-numpy example).

Each round it receives the global model, "trains" by adding 1 to every weight, and sends the
new weights back with a metric. Runs in the site's process (ScriptRunner, framework numpy) and
needs nothing but numpy and nvflare.
"""

import numpy as np

import nvflare.client as flare
from nvflare.app_common.abstract.fl_model import FLModel, ParamsType

NUMPY_KEY = "numpy_key"


def train(weights: np.ndarray) -> np.ndarray:
    """One local step: add 1 to every weight."""
    return weights + 1.0


def main():
    flare.init()
    site = flare.get_site_name()
    while flare.is_running():
        input_model = flare.receive()
        if input_model is None:
            break
        weights = np.array(input_model.params[NUMPY_KEY], dtype=np.float32)
        print(f"{site}: round {input_model.current_round} received weights {weights.tolist()}")
        new_weights = train(weights)
        flare.send(
            FLModel(
                params={NUMPY_KEY: new_weights},
                params_type=ParamsType.FULL,
                metrics={"accuracy": float(np.mean(new_weights))},
                current_round=input_model.current_round,
            )
        )


if __name__ == "__main__":
    main()
