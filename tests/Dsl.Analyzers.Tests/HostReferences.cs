using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Dsl.Analyzers.Tests;

/// <summary>
/// What the test compilations reference: the running host's framework assemblies (its trusted platform
/// assemblies) and the Dsl runtime. Nothing is downloaded: every reference is a file already on disk.
/// </summary>
internal static class HostReferences
{
    /// <summary>The language version of the user code: partial properties need C# 13 or later.</summary>
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Preview);

    /// <summary>Framework assemblies (System.*, netstandard, mscorlib) and Dsl.dll.</summary>
    public static ImmutableArray<MetadataReference> All { get; } = Load();

    private static ImmutableArray<MetadataReference> Load()
    {
        string trusted = AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string
            ?? throw new InvalidOperationException("The test host lists no trusted platform assemblies.");
        var paths = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string path in trusted.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string name = Path.GetFileNameWithoutExtension(path);
            if (name.StartsWith("System.", StringComparison.Ordinal) || name is "System" or "netstandard" or "mscorlib")
            {
                paths.Add(path);
            }
        }

        paths.Add(typeof(NetworkAttribute).Assembly.Location);
        paths.Add(typeof(ILGPU.Context).Assembly.Location); // generated GPU paths name ILGPU types
        return paths.Select(path => (MetadataReference)MetadataReference.CreateFromFile(path)).ToImmutableArray();
    }
}
