namespace Dsl.Analyzers.Tests;

/// <summary>
/// Convolution and flatten declarations: the valid CNN, each shape error at the attribute that causes it (with the
/// numbers and the fix in the message), and the sizes out of range.
/// </summary>
public sealed class ConvolutionDeclarationTests
{
    [Fact]
    public Task TheMnist1dCnnHasNoDiagnostic() => AnalyzerVerifier.VerifyValidAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [1, 40])]
        public sealed partial class Cnn
        {
            [Conv1d(25, 5, Stride = 2, Padding = 1), Relu] public partial Layer Conv1 { get; }
            [Conv1d(25, 3, Stride = 2, Padding = 1, Dilation = 1, Groups = 5), Gelu] public partial Layer Conv2 { get; }
            [Dropout(0.1)] public partial Layer Drop { get; }
            [Conv1d(25, 3, Stride = 2, Padding = 1, Bias = false, Init = Init.He)] public partial Layer Conv3 { get; }
            [Relu] public partial Layer Act { get; }
            [Flatten] public partial Layer Flat { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    private const string ADenseLayerAfterAConvolutionWithoutFlattenIsReportedAtTheDenseSource = """
        using Dsl;
        namespace Demo;
        [Network(Input = [1, 40])]
        public sealed partial class Cnn
        {
            [Conv1d(25, 5, Stride = 2, Padding = 1), Relu] public partial Layer Conv1 { get; }
            [{|DSL0006:Dense(10)|}] public partial Layer Logits { get; }
        }
        """;

    [Fact]
    public Task ADenseLayerAfterAConvolutionWithoutFlattenIsReportedAtTheDense() => AnalyzerVerifier.VerifyAsync(ADenseLayerAfterAConvolutionWithoutFlattenIsReportedAtTheDenseSource);

    [Fact]
    public void TheMissingFlattenMessageNamesTheShapeAndTheFix()
    {
        string message = SingleMessage(ADenseLayerAfterAConvolutionWithoutFlattenIsReportedAtTheDenseSource);
        Assert.Contains("Dense layer 'Logits' of network 'Cnn' reads one-dimensional input (features), but receives shape [25, 19]", message, StringComparison.Ordinal);
        Assert.Contains("insert [Flatten] public partial Layer Flatten { get; } before it to read the 475 floats as features", message, StringComparison.Ordinal);
    }

    private const string AConvolutionOnFeaturesIsReportedWithTheChannelDimensionToDeclareSource = """
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Cnn
        {
            [{|DSL0006:Conv1d(25, 5)|}, Relu] public partial Layer Conv1 { get; }
            [Flatten] public partial Layer Flat { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """;

    [Fact]
    public Task AConvolutionOnFeaturesIsReportedWithTheChannelDimensionToDeclare() => AnalyzerVerifier.VerifyAsync(AConvolutionOnFeaturesIsReportedWithTheChannelDimensionToDeclareSource);

    [Fact]
    public void TheFeaturesMessageSaysHowToDeclareOneChannel()
        => Assert.Contains(
            "Conv1d 'Conv1' of network 'Cnn' reads (channels, length) per sample, but receives shape [40]; declare a one-channel input as [1, 40]",
            SingleMessage(AConvolutionOnFeaturesIsReportedWithTheChannelDimensionToDeclareSource),
            StringComparison.Ordinal);

    private const string AnOutputLengthBelowOneIsReportedAtTheConvolutionSource = """
        using Dsl;
        namespace Demo;
        [Network(Input = [1, 40])]
        public sealed partial class Cnn
        {
            [Conv1d(8, 5, Stride = 4)] public partial Layer Conv1 { get; }
            [Conv1d(8, 5, Stride = 4)] public partial Layer Conv2 { get; }
            [{|DSL0006:Conv1d(8, 5, Dilation = 2)|}] public partial Layer Conv3 { get; }
            [Flatten] public partial Layer Flat { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """;

    [Fact]
    public Task AnOutputLengthBelowOneIsReportedAtTheConvolution() => AnalyzerVerifier.VerifyAsync(AnOutputLengthBelowOneIsReportedAtTheConvolutionSource);

    [Fact]
    public void TheShortInputMessageGivesTheLengthAndTheKernelSpan()
        => Assert.Contains(
            "Conv1d 'Conv3' of network 'Cnn' receives length 2, which with padding 0 is shorter than its kernel spans (5 taps at dilation 2 cover 9); no output position fits",
            SingleMessage(AnOutputLengthBelowOneIsReportedAtTheConvolutionSource),
            StringComparison.Ordinal);

    private const string ChannelsThatDoNotDivideIntoTheGroupsAreReportedSource = """
        using Dsl;
        namespace Demo;
        [Network(Input = [3, 40])]
        public sealed partial class Cnn
        {
            [{|DSL0006:Conv1d(6, 3, Groups = 2)|}] public partial Layer Conv1 { get; }
            [Flatten] public partial Layer Flat { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """;

    [Fact]
    public Task ChannelsThatDoNotDivideIntoTheGroupsAreReported() => AnalyzerVerifier.VerifyAsync(ChannelsThatDoNotDivideIntoTheGroupsAreReportedSource);

    [Fact]
    public void TheGroupsMessageGivesBothChannelCounts()
        => Assert.Contains(
            "Conv1d 'Conv1' of network 'Cnn' has 2 groups, but 3 input and 6 output channels; both must divide into the groups",
            SingleMessage(ChannelsThatDoNotDivideIntoTheGroupsAreReportedSource),
            StringComparison.Ordinal);

    [Fact]
    public Task NonPositiveSizesAndNegativePaddingAreReportedAtTheAttribute() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [1, 40])]
        public sealed partial class Cnn
        {
            [{|DSL0003:Conv1d(0, 5)|}] public partial Layer Conv1 { get; }
            [{|DSL0003:Conv1d(4, 3, Stride = 0)|}] public partial Layer Conv2 { get; }
            [{|DSL0008:Conv1d(4, 3, Padding = -1)|}] public partial Layer Conv3 { get; }
            [Flatten] public partial Layer Flat { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task AConvolutionOutputIntoSoftmaxCrossEntropyIsReportedAtTheLastLayer() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [1, 40])]
        public sealed partial class Cnn
        {
            [{|DSL0006:Conv1d(10, 40)|}] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task ANormAfterAConvolutionIsReportedWithTheFlattenFix() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [1, 40])]
        public sealed partial class Cnn
        {
            [Conv1d(8, 5)] public partial Layer Conv1 { get; }
            [{|DSL0006:LayerNorm|}] public partial Layer Norm { get; }
            [Flatten] public partial Layer Flat { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task AConvolutionInsideAResidualBlockThatKeepsTheShapeIsValid() => AnalyzerVerifier.VerifyValidAsync("""
        using Dsl;
        namespace Demo;
        [Block]
        public sealed partial class ConvBlock
        {
            [Conv1d(8, 3, Padding = 1), Relu] public partial Layer Conv { get; }
            [Conv1d(8, 3, Padding = 1)] public partial Layer Mix { get; }
        }

        [Network(Input = [8, 40])]
        public sealed partial class Cnn
        {
            [Repeat(3), Residual] public partial Repeated<ConvBlock> Blocks { get; }
            [Flatten] public partial Layer Flat { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task AResidualConvolutionThatShortensTheLengthIsReportedAtResidual() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Block]
        public sealed partial class ConvBlock
        {
            [Conv1d(8, 3), Relu] public partial Layer Conv { get; }
        }

        [Network(Input = [8, 40])]
        public sealed partial class Cnn
        {
            [{|DSL0006:Residual|}] public partial ConvBlock Block { get; }
            [Flatten] public partial Layer Flat { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    /// <summary>The one diagnostic's message for a source with its markup (<c>{|DSL0006:...|}</c>) taken out.</summary>
    private static string SingleMessage(string source)
    {
        DeclarationRun run = DeclarationRun.Run(System.Text.RegularExpressions.Regex.Replace(source, @"\{\|[A-Z]+[0-9]+:|\|\}", string.Empty));
        Microsoft.CodeAnalysis.Diagnostic diagnostic = Assert.Single(run.AnalyzerDiagnostics);
        return diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
    }
}
