using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Dsl.Generators.Model;
using Dsl.Generators.Parsing;
using Microsoft.CodeAnalysis;

namespace Dsl.Generators.Pipeline;

/// <summary>
/// Generated file names. Roslyn requires them unique ignoring case, while C# type names differ by case, arity
/// and nesting: a name is the type's namespace, containing types and name joined by '.', arity as "_N", and
/// where two networks' names are equal ignoring case, every one of them but the first (in ordinal order of
/// the types' metadata names) gets ".2", ".3", ... (no part of a type's name starts with a digit, so no other
/// network's name is met).
/// </summary>
internal static class HintNames
{
    /// <summary>A name before collisions are resolved, e.g. "Demo.Outer.Mlp" or "Demo.Gen_1".</summary>
    public static string Base(INamedTypeSymbol type)
    {
        string name = type.Arity == 0 ? type.Name : type.Name + "_" + type.Arity.ToString(CultureInfo.InvariantCulture);
        if (type.ContainingType is not null)
        {
            return Base(type.ContainingType) + "." + name;
        }

        string ns = CSharpNames.PlainNamespace(type.ContainingNamespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }

    /// <summary>The suffixes that keep every file name unique: empty unless two networks' names collide.</summary>
    public static EquatableArray<HintSuffix> Collisions(ImmutableArray<NetworkOutput> networks)
    {
        var suffixes = new List<HintSuffix>();
        foreach (IGrouping<string, NetworkOutput> group in networks.GroupBy(n => n.HintName, StringComparer.OrdinalIgnoreCase))
        {
            string[] keys = group.Select(n => n.TypeKey).Distinct(StringComparer.Ordinal).OrderBy(k => k, StringComparer.Ordinal).ToArray();
            for (int i = 1; i < keys.Length; i++)
            {
                suffixes.Add(new HintSuffix(keys[i], "." + (i + 1).ToString(CultureInfo.InvariantCulture)));
            }
        }

        suffixes.Sort((a, b) => string.CompareOrdinal(a.TypeKey, b.TypeKey));
        return new EquatableArray<HintSuffix>(suffixes);
    }

    /// <summary>The file name of one network's part.</summary>
    public static string Final(NetworkOutput network, EquatableArray<HintSuffix> collisions)
    {
        string suffix = string.Empty;
        foreach (HintSuffix collision in collisions)
        {
            if (collision.TypeKey == network.TypeKey)
            {
                suffix = collision.Suffix;
            }
        }

        return network.HintName + suffix + NetworkParser.GeneratedFileSuffix;
    }
}

/// <summary>The suffix one network's file name takes to stay unique.</summary>
internal sealed record HintSuffix(string TypeKey, string Suffix);
