# OpenBLAS picks its kernels from the CPU's model number. On a virtual machine whose CPU it does not recognise (an
# Intel Xeon that reports itself as "Intel(R) Xeon(R) Processor", for one) it falls back to its Prescott (SSE3)
# kernels, several times slower than the machine allows, and PyTorch's CPU numbers with it. Imported before torch,
# this names the kernels the CPU's instruction sets support in OPENBLAS_CORETYPE, unless the environment already
# names them: AVX-512 F, BW, VL and DQ -> SkylakeX; AVX2 and FMA -> Haswell; otherwise OpenBLAS's own choice.
# CORE is the name in effect, or None when OpenBLAS chooses.
import os


def _choose():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            flags = next((set(line.split(":", 1)[1].split()) for line in cpuinfo if line.startswith("flags")), set())
    except OSError:
        return None
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        return "SkylakeX"
    if {"avx2", "fma"} <= flags:
        return "Haswell"
    return None


CORE = os.environ.get("OPENBLAS_CORETYPE") or _choose()
if CORE is not None:
    os.environ["OPENBLAS_CORETYPE"] = CORE
