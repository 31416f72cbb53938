using System.Globalization;
using System.IO.Compression;
using Dsl.Data;
using Xunit;

namespace Dsl.Tests.Data;

/// <summary>
/// Mnist1d.Generate against the reference data set written by numpy
/// (tests/fixtures/mnist1d/make_mnist1d_reference.py), plus its own invariants.
/// </summary>
public class Mnist1dTests
{
    private const int Count = 5000;
    private const int Length = 40;
    private const int TrainCount = 4000;

    private static readonly string ReferencePath =
        Path.Combine(AppContext.BaseDirectory, "fixtures", "mnist1d", "mnist1d_reference.csv.gz");

    private static readonly Lazy<Mnist1dDataset> Default = new(() => Mnist1d.Generate());

    [Fact]
    public void Default_MatchesNumpyReference()
    {
        (double[] expectedX, int[] expectedLabels) = ReadCsv(OpenReference());
        Mnist1dDataset actual = Default.Value;

        Assert.Equal(expectedLabels, actual.Labels);
        Assert.Equal(expectedX.Length, actual.X.Length);
        double worst = 0.0;
        int worstIndex = -1;
        for (int i = 0; i < expectedX.Length; i++)
        {
            double error = Math.Abs(actual.X[i] - expectedX[i]);
            if (!(error <= worst))
            {
                worst = error;
                worstIndex = i;
            }
        }
        Assert.True(worst <= 1e-12,
            $"max |C# - numpy| = {worst:R} at row {worstIndex / Length}, column {worstIndex % Length}");
    }

    [Fact]
    public void Generate_IsDeterministic()
    {
        Mnist1dDataset again = Mnist1d.Generate(new Mnist1dOptions());
        Assert.Equal(Default.Value.X, again.X);
        Assert.Equal(Default.Value.Labels, again.Labels);
    }

    [Fact]
    public void Default_HasReferenceShapes()
    {
        Mnist1dDataset d = Default.Value;
        Assert.Equal(Count, d.Count);
        Assert.Equal(Length, d.Length);
        Assert.Equal(TrainCount, d.TrainCount);
        Assert.Equal(Count - TrainCount, d.TestCount);
        Assert.Equal(Count * Length, d.X.Length);
        Assert.Equal(TrainCount * Length, d.TrainX.Length);
        Assert.Equal((Count - TrainCount) * Length, d.TestX.Length);
        Assert.Equal(d.Labels[..TrainCount], d.TrainY);
        Assert.Equal(d.Labels[TrainCount..], d.TestY);
        for (int i = 0; i < d.TrainX.Length; i++)
        {
            Assert.Equal((float)d.X[i], d.TrainX[i]);
        }
        for (int i = 0; i < d.TestX.Length; i++)
        {
            Assert.Equal((float)d.X[TrainCount * Length + i], d.TestX[i]);
        }
    }

    [Fact]
    public void Default_Has500SamplesPerClass_Shuffled()
    {
        Mnist1dDataset d = Default.Value;
        int[] perClass = new int[Mnist1d.ClassCount];
        foreach (int label in d.Labels)
        {
            perClass[label]++;
        }
        Assert.All(perClass, n => Assert.Equal(500, n));
        // Shuffled: the training rows hold every digit, not just the first eight.
        Assert.Equal(Mnist1d.ClassCount, d.TrainY.Distinct().Count());
        Assert.Equal(Mnist1d.ClassCount, d.TestY.Distinct().Count());
    }

    [Fact]
    public void Default_IsStandardised()
    {
        double[] x = Default.Value.X;
        double mean = x.Sum() / x.Length;
        double variance = x.Sum(v => (v - mean) * (v - mean)) / x.Length;
        Assert.InRange(mean, -1e-9, 1e-9);
        Assert.InRange(Math.Sqrt(variance), 1 - 1e-9, 1 + 1e-9);
    }

    [Fact]
    public void Templates_StartAtZero()
    {
        double[] templates = Mnist1d.NormalisedTemplates();
        Assert.Equal(Mnist1d.ClassCount * Mnist1d.TemplateLength, templates.Length);
        for (int label = 0; label < Mnist1d.ClassCount; label++)
        {
            Assert.Equal(0.0, templates[label * Mnist1d.TemplateLength]);
        }
    }

    [Fact]
    public void WriteCsv_HasHeaderRowsAndRoundTrips()
    {
        Mnist1dDataset d = Default.Value;
        var writer = new StringWriter(CultureInfo.InvariantCulture);
        Mnist1d.WriteCsv(d, writer);
        string text = writer.ToString();

        Assert.DoesNotContain('\r', text);
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        string[] lines = text.TrimEnd('\n').Split('\n');
        Assert.Equal(1 + Count, lines.Length);
        Assert.Equal("label," + string.Join(",", Enumerable.Range(0, Length).Select(j => $"x{j}")), lines[0]);

        (double[] x, int[] labels) = ReadCsv(new StringReader(text));
        Assert.Equal(d.Labels, labels);
        Assert.Equal(d.X, x); // exact: "R" round-trips every double
    }

    [Fact]
    public void OtherOptions_GiveOtherValidData()
    {
        var options = new Mnist1dOptions { NumSamples = 100, Seed = 7, FinalSequenceLength = 24, TrainSplit = 0.5 };
        Mnist1dDataset d = Mnist1d.Generate(options);
        Assert.Equal(100, d.Count);
        Assert.Equal(24, d.Length);
        Assert.Equal(50, d.TrainCount);
        Assert.All(d.X, v => Assert.True(double.IsFinite(v)));
        Assert.Equal(Mnist1d.Generate(options).X, d.X);
        Assert.NotEqual(Mnist1d.Generate(options with { Seed = 8 }).X, d.X);
    }

    [Theory]
    [InlineData(0, 0.8, 36, 60, 48, 40)]
    [InlineData(95, 0.8, 36, 60, 48, 40)]
    [InlineData(100, 1.5, 36, 60, 48, 40)]
    [InlineData(100, 0.8, 61, 60, 48, 40)]
    [InlineData(100, 0.8, 36, 60, 0, 40)]
    [InlineData(100, 0.8, 36, 60, 73, 40)]
    [InlineData(100, 0.8, 36, 60, 48, 0)]
    public void InvalidOptions_Throw(int samples, double split, int paddingMin, int paddingMax, int translation, int length)
    {
        var options = new Mnist1dOptions
        {
            NumSamples = samples,
            TrainSplit = split,
            PaddingMin = paddingMin,
            PaddingMax = paddingMax,
            MaxTranslation = translation,
            FinalSequenceLength = length,
        };
        Assert.Throws<ArgumentException>(() => Mnist1d.Generate(options));
    }

    private static StreamReader OpenReference() =>
        new(new GZipStream(File.OpenRead(ReferencePath), CompressionMode.Decompress));

    /// <summary>Reads "label,x0,..." CSV: x (rows, Length) row-major and labels (rows).</summary>
    private static (double[] X, int[] Labels) ReadCsv(TextReader reader)
    {
        using (reader)
        {
            string header = reader.ReadLine() ?? throw new InvalidDataException("empty CSV");
            Assert.Equal(1 + Length, header.Split(',').Length);
            var x = new List<double>(Count * Length);
            var labels = new List<int>(Count);
            while (reader.ReadLine() is { } line)
            {
                string[] fields = line.Split(',');
                Assert.Equal(1 + Length, fields.Length);
                labels.Add(int.Parse(fields[0], CultureInfo.InvariantCulture));
                for (int j = 1; j < fields.Length; j++)
                {
                    x.Add(double.Parse(fields[j], CultureInfo.InvariantCulture));
                }
            }
            return (x.ToArray(), labels.ToArray());
        }
    }
}
