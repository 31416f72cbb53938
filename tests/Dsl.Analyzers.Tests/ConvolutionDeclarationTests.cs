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

    [Fact]
    public Task AnImageNetworkWithPoolsHasNoDiagnostic() => AnalyzerVerifier.VerifyValidAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [3, 17, 15])]
        public sealed partial class ImageCnn
        {
            [Conv2d(8, 3, Padding = 1), Relu] public partial Layer Conv1 { get; }
            [MaxPool2d(2)] public partial Layer Pool1 { get; }
            [Conv2d(8, 3, 1, StrideHeight = 2, PaddingWidth = 1, Groups = 2, Bias = false, Init = Init.He), Gelu] public partial Layer Conv2 { get; }
            [AvgPool2d(2, 3, Stride = 1, PaddingWidth = 1)] public partial Layer Pool2 { get; }
            [MaxPool2d(3, Stride = 1, Padding = 1, Dilation = 1)] public partial Layer Pool3 { get; }
            [GlobalAvgPool] public partial Layer Gap { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task OneDimensionalPoolsHaveNoDiagnostic() => AnalyzerVerifier.VerifyValidAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [1, 40])]
        public sealed partial class PooledCnn
        {
            [Conv1d(16, 5, Padding = 2), Relu] public partial Layer Conv1 { get; }
            [MaxPool1d(3, Stride = 2, Padding = 1, Dilation = 1)] public partial Layer Pool1 { get; }
            [Conv1d(16, 3), Relu] public partial Layer Conv2 { get; }
            [AvgPool1d(2)] public partial Layer Pool2 { get; }
            [Flatten] public partial Layer Flat { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    private const string AConv2dOnAOneChannelShapeSaysHowToDeclareTheChannelSource = """
        using Dsl;
        namespace Demo;
        [Network(Input = [28, 28])]
        public sealed partial class ImageCnn
        {
            [{|DSL0006:Conv2d(8, 3)|}, Relu] public partial Layer Conv1 { get; }
            [GlobalAvgPool] public partial Layer Gap { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """;

    [Fact]
    public Task AConv2dOnAOneChannelShapeIsReportedAtTheConvolution() => AnalyzerVerifier.VerifyAsync(AConv2dOnAOneChannelShapeSaysHowToDeclareTheChannelSource);

    [Fact]
    public void TheConv2dRankMessageSaysHowToDeclareOneChannel()
        => Assert.Contains(
            "Conv2d 'Conv1' of network 'ImageCnn' reads (channels, height, width) per sample, but receives shape [28, 28]; declare a one-channel image as [1, 28, 28]",
            SingleMessage(AConv2dOnAOneChannelShapeSaysHowToDeclareTheChannelSource),
            StringComparison.Ordinal);

    private const string APoolWindowLongerThanTheHeightIsReportedAtThePoolSource = """
        using Dsl;
        namespace Demo;
        [Network(Input = [3, 4, 20])]
        public sealed partial class ImageCnn
        {
            [Conv2d(8, 3)] public partial Layer Conv1 { get; }
            [{|DSL0006:MaxPool2d(3, 2)|}] public partial Layer Pool { get; }
            [Flatten] public partial Layer Flat { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """;

    [Fact]
    public Task APoolWindowLongerThanTheHeightIsReportedAtThePool() => AnalyzerVerifier.VerifyAsync(APoolWindowLongerThanTheHeightIsReportedAtThePoolSource);

    [Fact]
    public void TheShortHeightMessageNamesTheAxisAndTheWindow()
        => Assert.Contains(
            "MaxPool2d 'Pool' of network 'ImageCnn' receives height 2, which with padding 0 is shorter than its window spans (3 taps at dilation 1 cover 3); no output position fits",
            SingleMessage(APoolWindowLongerThanTheHeightIsReportedAtThePoolSource),
            StringComparison.Ordinal);

    private const string ADenseLayerAfterAPoolWithoutFlattenIsReportedAtTheDenseSource = """
        using Dsl;
        namespace Demo;
        [Network(Input = [1, 40])]
        public sealed partial class PooledCnn
        {
            [Conv1d(4, 5), Relu] public partial Layer Conv1 { get; }
            [AvgPool1d(4)] public partial Layer Pool { get; }
            [{|DSL0006:Dense(10)|}] public partial Layer Logits { get; }
        }
        """;

    [Fact]
    public Task ADenseLayerAfterAPoolWithoutFlattenIsReportedAtTheDense() => AnalyzerVerifier.VerifyAsync(ADenseLayerAfterAPoolWithoutFlattenIsReportedAtTheDenseSource);

    [Fact]
    public void TheMissingFlattenAfterAPoolMessageGivesThePooledShape()
        => Assert.Contains(
            "Dense layer 'Logits' of network 'PooledCnn' reads one-dimensional input (features), but receives shape [4, 9]; insert [Flatten] public partial Layer Flatten { get; } before it to read the 36 floats as features",
            SingleMessage(ADenseLayerAfterAPoolWithoutFlattenIsReportedAtTheDenseSource),
            StringComparison.Ordinal);

    [Fact]
    public Task PoolsAndGlobalPoolingOfTheWrongRankAreReported() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [3, 16, 16])]
        public sealed partial class A
        {
            [{|DSL0006:MaxPool1d(2)|}] public partial Layer Pool { get; }
            [Flatten] public partial Layer Flat { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }

        [Network(Input = [40])]
        public sealed partial class B
        {
            [{|DSL0006:GlobalAvgPool|}] public partial Layer Gap { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    private const string APoolPaddingBeyondHalfTheWindowIsOutOfRangeSource = """
        using Dsl;
        namespace Demo;
        [Network(Input = [2, 40])]
        public sealed partial class PooledCnn
        {
            [{|DSL0008:MaxPool1d(3, Padding = 2)|}] public partial Layer Pool1 { get; }
            [{|DSL0008:AvgPool1d(2, Padding = 2)|}] public partial Layer Pool2 { get; }
            [{|DSL0003:MaxPool1d(0)|}] public partial Layer Pool3 { get; }
            [{|DSL0003:AvgPool1d(2, Stride = 0)|}] public partial Layer Pool4 { get; }
            [{|DSL0003:Conv1d(2, 3, Dilation = 0)|}] public partial Layer Conv { get; }
            [Flatten] public partial Layer Flat { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """;

    [Fact]
    public Task PoolSizesOutOfRangeAreReportedAtTheAttribute() => AnalyzerVerifier.VerifyAsync(APoolPaddingBeyondHalfTheWindowIsOutOfRangeSource);

    [Fact]
    public Task Conv2dSizesOutOfRangeAreReportedAtTheAttribute() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [2, 9, 9])]
        public sealed partial class ImageCnn
        {
            [{|DSL0003:Conv2d(4, 0, 3)|}] public partial Layer Conv1 { get; }
            [{|DSL0008:Conv2d(4, 3, PaddingHeight = -1)|}] public partial Layer Conv2 { get; }
            [{|DSL0008:MaxPool2d(2, PaddingWidth = 2)|}] public partial Layer Pool { get; }
            [GlobalAvgPool] public partial Layer Gap { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public void ThePoolPaddingMessageGivesTheLimit()
    {
        DeclarationRun run = DeclarationRun.Run(System.Text.RegularExpressions.Regex.Replace(APoolPaddingBeyondHalfTheWindowIsOutOfRangeSource, @"\{\|[A-Z]+[0-9]+:|\|\}", string.Empty));
        string[] messages = [.. run.DslDiagnostics.Select(d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture))];
        Assert.Contains("MaxPool1d 'Pool1' has padding 2 along its length; at most 1, half its dilated window, as PyTorch allows", messages);
        Assert.Contains("AvgPool1d 'Pool2' has padding 2 along its length; at most 1, half its kernel, as PyTorch allows", messages);
        Assert.Contains("MaxPool1d 'Pool3' has 0 kernel; it must be positive", messages);
        Assert.Contains("AvgPool1d 'Pool4' has 0 stride; it must be positive", messages);
    }

    /// <summary>The one diagnostic's message for a source with its markup (<c>{|DSL0006:...|}</c>) taken out.</summary>
    private static string SingleMessage(string source)
    {
        DeclarationRun run = DeclarationRun.Run(System.Text.RegularExpressions.Regex.Replace(source, @"\{\|[A-Z]+[0-9]+:|\|\}", string.Empty));
        Microsoft.CodeAnalysis.Diagnostic diagnostic = Assert.Single(run.DslDiagnostics);
        return diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
    }
}
