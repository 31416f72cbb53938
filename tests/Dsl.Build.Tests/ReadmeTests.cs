using System.Globalization;
using System.Text.RegularExpressions;

namespace Dsl.Build.Tests;

/// <summary>The README's program, exactly as the README shows it, in a project that references the package.</summary>
[Collection(PackageCollection.Name)]
public sealed partial class ReadmeTests(LocalPackage package)
{
    [Fact]
    public void The_README_program_builds_without_a_warning_and_trains_the_MNIST_1D_MLP()
    {
        string readme = File.ReadAllText(Path.Combine(Path.GetDirectoryName(package.Solution)!, "README.md"));
        Match block = CSharpBlock().Match(readme);
        Assert.True(block.Success, "README.md has no ```csharp block");

        string project = package.Consumer("Readme");
        File.WriteAllText(Path.Combine(project, "Program.cs"), block.Groups["code"].Value);
        CommandResult build = package.Dotnet(project, "build", "-c", "Release", "-nologo", "-tl:off", "-v:q");
        Assert.True(build.ExitCode == 0, build.Output);
        Assert.Empty(build.Diagnostics());

        CommandResult run = package.Dotnet(project, "run", "-c", "Release", "--no-build");
        Assert.True(run.ExitCode == 0, run.Output);
        Match accuracy = AccuracyLine().Match(run.Output);
        Assert.True(accuracy.Success, run.Output);
        double value = double.Parse(accuracy.Groups["value"].Value.Replace(',', '.'), CultureInfo.InvariantCulture);
        Assert.True(value >= 0.69, $"the README's recipe reached {value}");
    }

    [GeneratedRegex(@"```csharp\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    [GeneratedRegex(@"test accuracy: (?<value>0[.,]\d{4})")]
    private static partial Regex AccuracyLine();
}
