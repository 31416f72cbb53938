using System.Text.RegularExpressions;
using Dsl.Generators.Diagnostics;
using Microsoft.CodeAnalysis;

namespace Dsl.Analyzers.Tests;

/// <summary>The one catalog: unique IDs, each with its doc page and its line in the release tracking file.</summary>
public sealed partial class DiagnosticCatalogTests
{
    private const string DocsFolder = "docs/diagnostics/";

    [Fact]
    public void IdsAreUniqueAndWellFormed()
    {
        Assert.NotEmpty(DiagnosticDescriptors.All);
        Assert.All(DiagnosticDescriptors.All, d => Assert.Matches(IdPattern(), d.Id));
        Assert.Equal(DiagnosticDescriptors.All.Length, DiagnosticDescriptors.All.Select(d => d.Id).Distinct().Count());
    }

    [Fact]
    public void AnalyzerSupportsEveryDescriptor()
    {
        var supported = new NetworkDeclarationAnalyzer().SupportedDiagnostics.Select(d => d.Id).ToHashSet();
        Assert.Equal(DiagnosticDescriptors.All.Select(d => d.Id).Order(), supported.Order());
    }

    [Fact]
    public void ByIdFindsEveryDescriptor()
    {
        Assert.All(DiagnosticDescriptors.All, d => Assert.Same(d, DiagnosticDescriptors.ById(d.Id)));
        Assert.Null(DiagnosticDescriptors.ById("DSL9999"));
    }

    [Fact]
    public void EveryHelpLinkResolvesToAnExistingPage()
    {
        string root = RepositoryRoot();
        Assert.All(DiagnosticDescriptors.All, d =>
        {
            string expectedEnd = DocsFolder + d.Id + ".md";
            Assert.EndsWith(expectedEnd, d.HelpLinkUri, StringComparison.Ordinal);
            string page = Path.Combine(root, expectedEnd);
            Assert.True(File.Exists(page), $"{d.Id}: help link {d.HelpLinkUri} has no page at {page}");
        });
    }

    [Fact]
    public void EveryPageBelongsToADescriptor()
    {
        string folder = Path.Combine(RepositoryRoot(), DocsFolder);
        var pages = Directory.GetFiles(folder, "DSL*.md").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal);
        Assert.Equal(DiagnosticDescriptors.All.Select(d => d.Id).Order(StringComparer.Ordinal), pages);
    }

    [Fact]
    public void EveryPageStartsWithItsIdAndTitle()
    {
        string root = RepositoryRoot();
        Assert.All(DiagnosticDescriptors.All, d =>
        {
            string firstLine = File.ReadLines(Path.Combine(root, DocsFolder + d.Id + ".md")).First();
            Assert.Equal($"# {d.Id}: {d.Title}", firstLine);
        });
    }

    [Fact]
    public void DeclarationRulesAreErrorsButDsl0011AndSignalRulesAreWarningsButDsl0107()
    {
        Assert.All(DiagnosticDescriptors.All, d =>
        {
            Assert.True(d.IsEnabledByDefault, d.Id);
            bool signal = string.CompareOrdinal(d.Id, "DSL0101") >= 0;
            Assert.Equal(signal ? "Dsl.Signal" : "Dsl.Declaration", d.Category);
            DiagnosticSeverity expected = d.Id switch
            {
                "DSL0011" => DiagnosticSeverity.Warning,
                "DSL0107" => DiagnosticSeverity.Info,
                _ => signal ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error,
            };
            Assert.Equal(expected, d.DefaultSeverity);
        });
    }

    [Fact]
    public void ReleaseTrackingListsExactlyTheCatalog()
    {
        string folder = Path.Combine(RepositoryRoot(), "generators", "Dsl.Generators", "Diagnostics");
        var tracked = new List<(string Id, string Category, string Severity)>();
        foreach (string file in new[] { "AnalyzerReleases.Shipped.md", "AnalyzerReleases.Unshipped.md" })
        {
            foreach (string line in File.ReadLines(Path.Combine(folder, file)))
            {
                Match row = ReleaseRow().Match(line);
                if (row.Success)
                {
                    tracked.Add((row.Groups["id"].Value, row.Groups["category"].Value, row.Groups["severity"].Value));
                }
            }
        }

        Assert.Equal(DiagnosticDescriptors.All.Select(d => d.Id).Order(StringComparer.Ordinal), tracked.Select(t => t.Id).Order(StringComparer.Ordinal));
        Assert.All(tracked, t =>
        {
            DiagnosticDescriptor descriptor = DiagnosticDescriptors.ById(t.Id)!;
            Assert.Equal(descriptor.Category, t.Category);
            Assert.Equal(descriptor.DefaultSeverity.ToString(), t.Severity);
        });
    }

    /// <summary>The folder holding Dsl.sln or .git, found by walking up from the test binaries.</summary>
    internal static string RepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Dsl.sln"))
                || File.Exists(Path.Combine(directory.FullName, "Dsl.slnx"))
                || Directory.Exists(Path.Combine(directory.FullName, ".git"))
                || File.Exists(Path.Combine(directory.FullName, ".git")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("No Dsl.sln or .git above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^DSL\d{4}$")]
    private static partial Regex IdPattern();

    // "DSL0001 | Dsl.Declaration | Error | notes"
    [GeneratedRegex(@"^\s*(?<id>DSL\d{4})\s*\|\s*(?<category>[^|]+?)\s*\|\s*(?<severity>[^|]+?)\s*\|")]
    private static partial Regex ReleaseRow();
}
