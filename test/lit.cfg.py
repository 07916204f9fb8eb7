# lit configuration for dlc's compiler and tool tests.
import os
import lit.formats

config.name = "dlc"

# The build's settings (tool paths, zoo path) come from the generated
# lit.site.cfg.py, passed as --param dlc_site_config=... by ctest.
_site = lit_config.params.get("dlc_site_config")
if not _site:
    lit_config.fatal("run through ctest, or pass --param dlc_site_config=<build>/test/lit.site.cfg.py")
lit_config.load_config(config, _site)
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test", ".prototxt"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = config.dlc_obj_root

config.environment["PATH"] = os.pathsep.join(
    [config.dlc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])])
# Keep benchmarks and tests deterministic and light on a 2-core machine.
config.environment["OMP_NUM_THREADS"] = "1"
# Machine rates and tuning results go to the build tree, never to the user's
# cache directory (docs/convolution.md); tests of the cache pass their own.
config.environment["DLC_TUNING_CACHE"] = os.path.join(config.test_exec_root, "tuning-cache.json")

config.substitutions.append(("%zoo", config.dlc_zoo_dir))
config.substitutions.append(("%caffe_proto_dir", os.path.join(config.dlc_source_dir, "lib", "Caffe")))
config.substitutions.append(("%models", os.path.join(config.dlc_source_dir, "models")))

config.substitutions.append(("%bench", os.path.join(config.dlc_source_dir, "bench")))
config.substitutions.append(("%dlc_tools_dir", config.dlc_tools_dir))
# The Python running lit (no extra modules): small checks of JSON reports.
import sys  # noqa: E402
config.substitutions.append(("%python", sys.executable))

# A python3 with matplotlib (Debian's python3-matplotlib, installed by
# scripts/install-deps.sh) for the benchmark harness: %plot_python.
import subprocess  # noqa: E402
for _py in ("/usr/bin/python3", "python3"):
    try:
        if subprocess.run([_py, "-c", "import matplotlib"], capture_output=True, timeout=60).returncode == 0:
            config.available_features.add("matplotlib")
            config.substitutions.append(("%plot_python", _py))
            break
    except (OSError, subprocess.SubprocessError):
        pass

if os.path.isdir(config.dlc_zoo_dir):
    config.available_features.add("zoo")
# Debian's dataset-fashion-mnist (scripts/install-deps.sh): %fashion_mnist.
_fashion = "/usr/share/datasets/fashion-mnist"
if os.path.isfile(os.path.join(_fashion, "t10k-images-idx3-ubyte.gz")):
    config.available_features.add("fashion-mnist")
    config.substitutions.append(("%fashion_mnist", _fashion))

# dlrun --distributed mpi (docs/distributed.md): dlc built with Debian's
# libopenmpi-dev and its mpirun (openmpi-bin) on the PATH. %mpirun starts N
# ranks on this machine only, as root too (CI runs as root).
import shutil  # noqa: E402
if config.dlc_have_mpi.upper() in ("TRUE", "ON", "1") and shutil.which("mpirun"):
    config.available_features.add("mpi")
    config.environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    config.environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    config.substitutions.append(("%mpirun", "mpirun --oversubscribe --bind-to none -np"))

# This CPU's features as /proc/cpuinfo names them ("cpu-avx512f",
# "cpu-avx512_fp16"), for tests of code compiled for another CPU
# (docs/codegen.md).
try:
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                for flag in line.split(":", 1)[1].split():
                    config.available_features.add("cpu-" + flag)
                break
except OSError:
    pass
