using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;

namespace Dsl.Generators.Parsing;

/// <summary>
/// Types and namespaces declared in the project's own source that hide a name the generated code writes from
/// <c>global::</c>. Generated code names everything it uses by full name under three roots (System, ILGPU, Dsl);
/// a source type with the same full name as a referenced type or namespace under those roots wins the lookup (the
/// compiler's CS0436), and no syntax can reach the referenced one, so such a network cannot be generated.
/// </summary>
internal static class HiddenNames
{
    /// <summary>The namespaces generated code names types from.</summary>
    private static readonly string[] Roots = { "System", "ILGPU", "Dsl" };

    /// <summary>The type a generated fallback part throws; the part cannot be written while it is hidden.</summary>
    public const string FallbackException = "System.InvalidOperationException";

    /// <summary>
    /// Each hiding declaration of the project, with the full name it hides. Walks only the source assembly's
    /// namespaces System, ILGPU and Dsl (usually absent) and its global types of those names.
    /// </summary>
    public static List<(ISymbol Hiding, string Name)> Find(Compilation compilation, CancellationToken cancellationToken)
    {
        var hidden = new List<(ISymbol, string)>();
        INamespaceSymbol source = compilation.Assembly.GlobalNamespace;
        foreach (string root in Roots)
        {
            foreach (INamedTypeSymbol type in source.GetTypeMembers(root))
            {
                hidden.Add((type, root));
            }

            foreach (INamespaceSymbol ns in source.GetNamespaceMembers().Where(n => n.Name == root))
            {
                Walk(ns, root, compilation, hidden, cancellationToken);
            }
        }

        return hidden;
    }

    private static void Walk(INamespaceSymbol ns, string name, Compilation compilation, List<(ISymbol, string)> hidden, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        foreach (INamedTypeSymbol type in ns.GetTypeMembers())
        {
            string full = name + "." + type.Name;
            if (ReferencesDeclare(compilation, full, type.Arity))
            {
                hidden.Add((type, full));
            }
        }

        foreach (INamespaceSymbol inner in ns.GetNamespaceMembers())
        {
            string full = name + "." + inner.Name;
            if (ReferencedTypeExists(compilation, full, arity: 0))
            {
                hidden.Add((inner, full));
            }

            Walk(inner, full, compilation, hidden, cancellationToken);
        }
    }

    /// <summary>Whether a referenced assembly declares a type or a namespace with this full name.</summary>
    private static bool ReferencesDeclare(Compilation compilation, string fullName, int arity)
        => ReferencedTypeExists(compilation, fullName, arity) || ReferencedNamespaceExists(compilation, fullName);

    private static bool ReferencedTypeExists(Compilation compilation, string fullName, int arity)
    {
        string metadataName = arity == 0 ? fullName : fullName + "`" + arity.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (INamedTypeSymbol type in compilation.GetTypesByMetadataName(metadataName))
        {
            if (!SymbolEqualityComparer.Default.Equals(type.ContainingAssembly, compilation.Assembly))
            {
                return true;
            }
        }

        return false;
    }

    private static bool ReferencedNamespaceExists(Compilation compilation, string fullName)
    {
        INamespaceSymbol current = compilation.GlobalNamespace;
        foreach (string part in fullName.Split('.'))
        {
            INamespaceSymbol? next = current.GetNamespaceMembers().FirstOrDefault(n => n.Name == part);
            if (next is null)
            {
                return false;
            }

            current = next;
        }

        return current.ConstituentNamespaces.Any(n => !SymbolEqualityComparer.Default.Equals(n.ContainingAssembly, compilation.Assembly));
    }
}
