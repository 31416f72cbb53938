using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Dsl.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Dsl.Generators.Parsing;

/// <summary>
/// Reads a [Network] class's training attributes ([Warmup], [CosineDecay], [StepDecay], [ClipGradientNorm],
/// [DecayAllParameters]) into a <see cref="TrainingSpec"/>: DSL0008 at an attribute whose argument is out of range,
/// DSL0004 at a second decay. Never throws; an argument still being typed marks the declaration incomplete.
/// </summary>
internal static class TrainingParser
{
    public const string WarmupAttributeName = "Dsl.WarmupAttribute";
    public const string CosineDecayAttributeName = "Dsl.CosineDecayAttribute";
    public const string StepDecayAttributeName = "Dsl.StepDecayAttribute";
    public const string ClipGradientNormAttributeName = "Dsl.ClipGradientNormAttribute";
    public const string DecayAllParametersAttributeName = "Dsl.DecayAllParametersAttribute";

    /// <summary>The declared policy, or null when the class declares none of the attributes (or one is incomplete).</summary>
    public static TrainingSpec? Parse(INamedTypeSymbol type, Location fallback, List<ParseDiagnostic> diagnostics, ref bool incomplete)
    {
        int warmup = 0;
        DecayKind decay = DecayKind.None;
        int decaySteps = 0;
        double decayFactor = 0;
        double maxNorm = 0;
        bool decayAll = false;
        bool any = false;
        foreach (AttributeData attribute in type.GetAttributes())
        {
            string name = NetworkParser.FullName(attribute.AttributeClass);
            if (name is not (WarmupAttributeName or CosineDecayAttributeName or StepDecayAttributeName or ClipGradientNormAttributeName or DecayAllParametersAttributeName))
            {
                continue;
            }

            any = true;
            Location at = NetworkParser.AttributeLocation(attribute, fallback);
            if (attribute.ConstructorArguments.Any(a => a.Kind == TypedConstantKind.Error) || attribute.NamedArguments.Any(a => a.Value.Kind == TypedConstantKind.Error)
                || attribute.AttributeConstructor is null)
            {
                incomplete = true;
                continue;
            }

            switch (name)
            {
                case WarmupAttributeName:
                    warmup = Positive(attribute, 0, "warm-up steps", at, type.Name, diagnostics);
                    break;
                case CosineDecayAttributeName or StepDecayAttributeName:
                    if (decay != DecayKind.None)
                    {
                        diagnostics.Add(new ParseDiagnostic(
                            DiagnosticIds.UnknownAttributeCombination,
                            at,
                            string.Format(CultureInfo.InvariantCulture, "Network '{0}' declares both [CosineDecay] and [StepDecay]; its schedule takes one decay", type.Name)));
                        break;
                    }

                    decay = name == CosineDecayAttributeName ? DecayKind.Cosine : DecayKind.Step;
                    decaySteps = Positive(attribute, 0, decay == DecayKind.Cosine ? "cosine decay steps" : "steps between decays", at, type.Name, diagnostics);
                    decayFactor = decay == DecayKind.Cosine ? Named(attribute, "FinalFactor", 0.0) : Argument(attribute, 1);
                    bool inRange = decay == DecayKind.Cosine ? decayFactor >= 0 && decayFactor <= 1 : decayFactor > 0 && decayFactor <= 1;
                    if (!inRange)
                    {
                        diagnostics.Add(new ParseDiagnostic(
                            DiagnosticIds.ArgumentOutOfRange,
                            at,
                            string.Format(
                                CultureInfo.InvariantCulture,
                                decay == DecayKind.Cosine ? "Final factor {0} of network '{1}''s cosine decay must be in [0, 1]" : "Factor {0} of network '{1}''s step decay must be in (0, 1]",
                                decayFactor,
                                type.Name)));
                    }

                    break;
                case ClipGradientNormAttributeName:
                    maxNorm = Argument(attribute, 0);
                    if (!(maxNorm > 0) || double.IsInfinity(maxNorm) || maxNorm > float.MaxValue)
                    {
                        diagnostics.Add(new ParseDiagnostic(
                            DiagnosticIds.ArgumentOutOfRange,
                            at,
                            string.Format(CultureInfo.InvariantCulture, "Gradient norm {0} of network '{1}''s clipping must be positive and finite", maxNorm, type.Name)));
                    }

                    break;
                default:
                    decayAll = true;
                    break;
            }
        }

        return any ? new TrainingSpec(warmup, decay, decaySteps, decayFactor, maxNorm, decayAll) : null;
    }

    /// <summary>Constructor argument <paramref name="index"/> as a positive int; DSL0008 (and 0) otherwise.</summary>
    private static int Positive(AttributeData attribute, int index, string what, Location at, string network, List<ParseDiagnostic> diagnostics)
    {
        int value = attribute.ConstructorArguments.Length > index && attribute.ConstructorArguments[index].Value is int v ? v : 0;
        if (value <= 0)
        {
            diagnostics.Add(new ParseDiagnostic(
                DiagnosticIds.ArgumentOutOfRange,
                at,
                string.Format(CultureInfo.InvariantCulture, "The {0} of network '{1}' must be positive (got {2})", what, network, value)));
            return 0;
        }

        return value;
    }

    private static double Argument(AttributeData attribute, int index)
        => attribute.ConstructorArguments.Length > index ? ToDouble(attribute.ConstructorArguments[index].Value) : double.NaN;

    private static double Named(AttributeData attribute, string name, double fallback)
    {
        foreach (KeyValuePair<string, TypedConstant> argument in attribute.NamedArguments)
        {
            if (argument.Key == name)
            {
                return ToDouble(argument.Value.Value);
            }
        }

        return fallback;
    }

    private static double ToDouble(object? value) => value switch
    {
        double d => d,
        float f => f,
        int i => i,
        _ => double.NaN,
    };
}
