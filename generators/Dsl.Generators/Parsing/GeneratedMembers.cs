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
        "LastLoss", "Dispose", "Plan", "ToString", "PredictSignal", "MeasureSignal", "Training", "LastGradientNorm",
        // Private: the runtime network, the typed views, and a dense chain's GPU widths.
        "ParameterTotal", "_graph", "_layers", "_blocks", "GpuWidths",
    };

    public static bool IsReserved(string name)
    {
        foreach (string reserved in Names)
        {
            if (reserved == name)
            {
                return true;
            }
        }

        return false;
    }
}
