"""Builds the flare-job parity cases with nvflare's own FedJob API and exports each one.

Usage: python parity_cases.py SOURCE_DIR OUT_DIR
Each case is exported to OUT_DIR/<case>/<job name>/. Relative resources are resolved against
SOURCE_DIR (the working directory during the export). Numpy-only classes: no torch needed.
The Rust side (tests/parity.rs) builds the same jobs with flare-job; keep the two in step.
"""

import logging
import os
import sys
import warnings

logging.disable(logging.CRITICAL)
warnings.simplefilter("ignore")

from nvflare.app_common.aggregators.intime_accumulate_model_aggregator import (  # noqa: E402
    InTimeAccumulateWeightedAggregator,
)
from nvflare.app_common.ccwf.ccwf_job import (  # noqa: E402
    CCWFJob,
    CrossSiteEvalConfig,
    CyclicClientConfig,
    CyclicServerConfig,
    SwarmClientConfig,
    SwarmServerConfig,
)
from nvflare.app_common.ccwf.swarm_client_ctl import SwarmClientController  # noqa: E402
from nvflare.app_common.filters.exclude_vars import ExcludeVars  # noqa: E402
from nvflare.app_common.filters.percentile_privacy import PercentilePrivacy  # noqa: E402
from nvflare.app_common.filters.svt_privacy import SVTPrivacy  # noqa: E402
from nvflare.app_common.np.np_model_persistor import NPModelPersistor  # noqa: E402
from nvflare.app_common.np.np_trainer import NPTrainer  # noqa: E402
from nvflare.app_common.np.np_validator import NPValidator  # noqa: E402
from nvflare.app_common.np.recipes.fedavg import NumpyFedAvgRecipe  # noqa: E402
from nvflare.app_common.shareablegenerators.full_model_shareable_generator import (  # noqa: E402
    FullModelShareableGenerator,
)
from nvflare.app_common.widgets.intime_model_selector import IntimeModelSelector  # noqa: E402
from nvflare.app_common.workflows.cross_site_model_eval import CrossSiteModelEval  # noqa: E402
from nvflare.app_common.workflows.cyclic_ctl import CyclicController  # noqa: E402
from nvflare.app_common.workflows.fedavg import FedAvg  # noqa: E402
from nvflare.app_common.workflows.scatter_and_gather import ScatterAndGather  # noqa: E402
from nvflare.job_config.api import FedJob  # noqa: E402
from nvflare.job_config.defs import FilterType  # noqa: E402
from nvflare.job_config.script_runner import FrameworkType, ScriptRunner  # noqa: E402
from nvflare.recipe.cyclic import CyclicRecipe  # noqa: E402

CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


@case
def basic_fedavg(out):
    job = FedJob(name="basic_fedavg", min_clients=2)
    job.to_server(FedAvg(num_clients=2, num_rounds=3))
    job.to_server(IntimeModelSelector(key_metric="acc"))
    job.to_server(NPModelPersistor(model=[[1.0, 2.0]]), id="persistor")
    job.to_clients(ScriptRunner(script="train.py", framework=FrameworkType.NUMPY))
    job.export_job(out)


@case
def script_runner_modes(out):
    job = FedJob(name="script_runner_modes")
    job.to_server(FedAvg(num_clients=3, num_rounds=1))
    job.to(ScriptRunner(script="train.py", script_args="--epochs 2"), "site-1")
    job.to(
        ScriptRunner(
            script="src/train_ext.py",
            script_args="--name 'a b' --lr 0.1",
            launch_external_process=True,
            command="python3 -u -X dev",
            framework=FrameworkType.TENSORFLOW,
        ),
        "site-2",
        tasks=["train", "validate"],
    )
    job.to(ScriptRunner(script="train.py", framework=FrameworkType.RAW, launch_external_process=True), "site-3")
    job.export_job(out)


@case
def executors_by_task(out):
    job = FedJob(name="executors_by_task")
    job.to_server(ScatterAndGather(min_clients=2, num_rounds=2, persistor_id="persistor"))
    job.to_server(CrossSiteModelEval(model_locator_id="locator"))
    job.to_clients(NPTrainer(delta=2, sleep_time=1), tasks=["train", "submit_model"])
    job.to_clients(NPValidator(epsilon=3), tasks=["validate"])
    job.to_server(NPModelPersistor(), id="persistor")
    job.export_job(out)


# ExcludeVars is given lists: with a regex string nvflare 2.9 keeps a compiled `re.Pattern` and
# exports it as a class `{"path": "re.Pattern"}` (copying the standard library into custom/).
@case
def filters_by_task(out):
    job = FedJob(name="filters_by_task")
    job.to_server(FedAvg(num_rounds=1))
    job.to_clients(NPTrainer())
    job.to_clients(ExcludeVars(exclude_vars=["bias"]), tasks=["train"], filter_type=FilterType.TASK_RESULT)
    job.to_clients(PercentilePrivacy(percentile=20), tasks=["train"], filter_type=FilterType.TASK_RESULT)
    job.to_clients(SVTPrivacy(fraction=0.2), tasks=["validate"], filter_type=FilterType.TASK_RESULT)
    job.to_clients(ExcludeVars(exclude_vars=["w1", "w2"]), filter_type=FilterType.TASK_DATA)
    job.to_server(PercentilePrivacy(gamma=0.5), tasks=["train"], filter_type=FilterType.TASK_DATA)
    job.export_job(out)


@case
def resources(out):
    job = FedJob(name="resources")
    job.to_server(FedAvg(num_rounds=1))
    job.to_server("data")
    job.to_clients("train.py")
    job.to_clients("data")
    job.to_clients(NPTrainer())
    job.export_job(out)


@case
def as_id_references(out):
    job = FedJob(name="as_id_references")
    persistor_id = job.as_id(NPModelPersistor(model=[[0.5]]))
    generator_id = job.as_id(FullModelShareableGenerator())
    job.to_server(CyclicController(num_rounds=2, persistor_id=persistor_id, shareable_generator_id=generator_id))
    aggregator_id = job.as_id(InTimeAccumulateWeightedAggregator(expected_data_kind="WEIGHTS"))
    client_persistor = job.as_id(NPModelPersistor())
    job.to(
        SwarmClientController(aggregator_id=aggregator_id, persistor_id=client_persistor),
        "site-1",
        tasks=["swarm_*"],
    )
    unused = job.as_id(NPModelPersistor(model_name="never.npy"))
    assert unused
    job.export_job(out)


@case
def id_collisions(out):
    job = FedJob(name="id_collisions")
    job.to_server(FedAvg(num_rounds=1))
    job.to_server(FedAvg(num_rounds=2))
    job.to_server(FedAvg(num_rounds=3), id="controller")
    job.to_server(NPModelPersistor(), id="persistor")
    job.to_server(NPModelPersistor(model_name="b.npy"), id="persistor")
    job.to_server(NPModelPersistor(model_name="c.npy"), id="persistor")
    job.to_server(FullModelShareableGenerator())
    job.to_server(FullModelShareableGenerator())
    job.to_server(FullModelShareableGenerator(), id="a1b1")
    job.to_server(FullModelShareableGenerator(), id="a1b1")
    job.to_server(FullModelShareableGenerator(), id="m9")
    job.to_server(FullModelShareableGenerator(), id="m9")
    job.to_clients(NPTrainer())
    job.export_job(out)


@case
def per_site_apps(out):
    job = FedJob(name="per_site_apps", min_clients=2)
    job.to_server(FedAvg(num_clients=2, num_rounds=1))
    job.to(NPTrainer(delta=5), "site-1")
    job.to("data", "site-1")
    job.to(ScriptRunner(script="train.py", framework=FrameworkType.NUMPY), "site-2")
    job.to(ExcludeVars(exclude_vars=["x"]), "site-2", filter_type=FilterType.TASK_DATA, tasks=["train"])
    job.export_job(out)


@case
def mandatory_and_resource_spec(out):
    job = FedJob(
        name="mandatory_and_resource_spec",
        min_clients=2,
        mandatory_clients=["site-1", "site-2"],
        meta_props={"description": "parity", "custom_level": 3},
    )
    job.job.add_resource_spec("site-1", {"num_of_gpus": 1, "mem_per_gpu_in_GiB": 2})
    job.job.add_resource_spec("site-2", {"num_of_gpus": 0})
    job.to_server(FedAvg(num_clients=2, num_rounds=1))
    job.to_clients(NPTrainer())
    job.export_job(out)


@case
def client_side_controller_and_params(out):
    job = FedJob(name="client_side_controller_and_params")
    job.to_server(FedAvg(num_rounds=1))
    job.to_server({"heartbeat_timeout": 600, "format_version": 2})
    job.to(FedAvg(num_rounds=4), "site-1", id="client_ctl")
    job.to({"timeout": 30}, "site-1")
    job.to(NPTrainer(), "site-1")
    job.export_job(out)


@case
def custom_class(out):
    from custom_comps import MyComp

    job = FedJob(name="custom_class")
    job.to_server(FedAvg(num_rounds=1))
    other = job.as_id(NPModelPersistor())
    job.to_server(MyComp(threshold=5, other_id=other), id="mine")
    job.to_clients(NPTrainer())
    job.export_job(out)


@case
def pattern_fedavg(out):
    recipe = NumpyFedAvgRecipe(
        name="pattern_fedavg",
        model=[[1.0, 2.0], [3.0, 4.0]],
        min_clients=2,
        num_rounds=3,
        train_script="train.py",
        train_args="--lr 0.1",
        stop_cond="accuracy >= 80",
        patience=2,
        key_metric_mode="max",
    )
    recipe.export(out)


class _NumpyModel:
    """A model wrapper for CyclicRecipe (it needs one with add_to_fed_job): NPModelPersistor."""

    def __init__(self, model):
        self.model = model

    def add_to_fed_job(self, job, ctx):
        return job.add_component("persistor", NPModelPersistor(model=self.model), ctx)


@case
def pattern_cyclic(out):
    recipe = CyclicRecipe(
        name="pattern_cyclic",
        model=_NumpyModel([[0.0, 1.0]]),
        num_rounds=4,
        min_clients=2,
        train_script="train.py",
        train_args="--steps 3",
    )
    recipe.export(out)


@case
def pattern_ccwf_swarm(out):
    job = CCWFJob(name="pattern_ccwf_swarm", min_clients=2, external_resources="data")
    job.add_swarm(
        server_config=SwarmServerConfig(num_rounds=3, start_task_timeout=20),
        client_config=SwarmClientConfig(
            executor=ScriptRunner(script="train.py", framework=FrameworkType.NUMPY),
            persistor=NPModelPersistor(model=[[1.0]]),
            shareable_generator=FullModelShareableGenerator(),
            aggregator=InTimeAccumulateWeightedAggregator(expected_data_kind="WEIGHTS"),
            learn_task_timeout=60,
        ),
        cse_config=CrossSiteEvalConfig(eval_task_timeout=45),
    )
    job.export_job(out)


@case
def pattern_ccwf_cyclic(out):
    job = CCWFJob(name="pattern_ccwf_cyclic", mandatory_clients=["site-1"], executor_tasks=["train"])
    job.add_cyclic(
        server_config=CyclicServerConfig(num_rounds=2, cyclic_order="random"),
        client_config=CyclicClientConfig(
            executor=NPTrainer(),
            persistor=NPModelPersistor(),
            shareable_generator=FullModelShareableGenerator(),
        ),
    )
    job.export_job(out)


def main():
    source, out = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.chdir(source)
    sys.path.insert(0, source)
    failed = []
    for name, fn in CASES.items():
        try:
            fn(os.path.join(out, name))
        except Exception as e:  # report every failing case, not just the first
            failed.append(f"{name}: {type(e).__name__}: {e}")
    print("\n".join(sorted(CASES)))
    if failed:
        sys.stderr.write("\n".join(failed) + "\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
