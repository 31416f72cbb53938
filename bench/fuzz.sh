#!/usr/bin/env bash
# The declaration fuzz test (tests/Dsl.Analyzers.Tests/Fuzz) over more cases than CI's 10,000.
#   bench/fuzz.sh [CASES] [FIRST_SEED]      e.g. bench/fuzz.sh 200000 1000000
# Case i is drawn from seed FIRST_SEED + i, so a run is reproducible; a failure prints the case, its CsCheck seed
# and the case CsCheck shrank it to. On a 2-core machine 10,000 cases take about two and a half minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
export DSL_FUZZ_CASES="${1:-100000}"
export DSL_FUZZ_SEED="${2:-$(date +%s)}"
echo "fuzz: $DSL_FUZZ_CASES cases from seed $DSL_FUZZ_SEED"
dotnet test tests/Dsl.Analyzers.Tests -c Release --filter "FullyQualifiedName~DeclarationFuzzTests" --logger "console;verbosity=detailed"
