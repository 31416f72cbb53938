using System.Text.RegularExpressions;

namespace Dsl.Generators.Parsing;

/// <summary>
/// The names of the members the emitter writes into a network class. A user member (a layer or
/// anything else) with one of these names would not compile, so the parser reports DSL0009 instead.
/// A generator test checks this list against the members actually emitted.
/// </summary>
internal static class GeneratedMembers
{
    public static readonly string[] Names =
    {
        // Public API.
        "Device", "ParameterCount", "InputSize", "OutputSize", "InputShape", "OutputShape", "Layers",
        "Parameters", "CopyParametersTo", "Gradients", "ResetParameters", "Predict", "TrainStep", "ComputeGradients", "Evaluate",
        "LastLoss", "Dispose",
        // Private plan.
        "InputWidth", "OutputWidth", "ParameterTotal", "s_inputShape", "s_outputShape",
        "_device", "_parameters", "_gradients", "_layers", "_capacity", "_dOutput",
        "CheckBatch", "Forward", "ForwardBackward", "EnsureCapacity",
        // GPU path.
        "GpuPath", "_gpu", "_deviceParametersStale", "_hostParametersStale", "_hostGradientsStale", "_lastLoss",
        "UploadParametersIfStale", "DownloadParametersIfStale", "GpuForwardBackward", "GpuStep",
        // Batch split across threads (small networks).
        // Graph networks and blocks.
        "_graph", "_blocks",
        "EnsureSliceBuffers", "ForwardBackwardBatch", "RunSlice", "SliceTask", "_stepInputs", "_stepLabels", "_stepTargets", "_sliceGradients", "_sliceLosses",
    };

    /// <summary>Per-layer workspace fields: _output0, _preActivation1, _dPreActivation2, ...</summary>
    private static readonly Regex WorkspaceField = new(@"^_(output|preActivation|dPreActivation)[0-9]+$", RegexOptions.CultureInvariant);

    public static bool IsReserved(string name)
    {
        foreach (string reserved in Names)
        {
            if (reserved == name)
            {
                return true;
            }
        }

        return WorkspaceField.IsMatch(name);
    }
}
