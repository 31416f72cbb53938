using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Dsl.Generators.Parsing;

/// <summary>
/// Rules about the network class itself, not its layers: whether the generated part can join it (DSL0001), take
/// its constructor (DSL0010), add its members without hiding or duplicating one (DSL0009), name the runtime's
/// types (DSL0012), and leave no user member null (DSL0011).
/// </summary>
internal static class DeclarationChecks
{
    /// <param name="block">Whether <paramref name="type"/> is a [Block] class (its generated constructor takes a Dsl.Graphs.GraphBuilder) rather than a network.</param>
    public static void Check(INamedTypeSymbol type, Compilation compilation, Location classLocation, List<ParseDiagnostic> diagnostics, CancellationToken cancellationToken, bool block = false)
    {
        string kind = block ? "Block" : "Network";
        CheckShape(type, kind, classLocation, diagnostics, cancellationToken);
        CheckConstructor(type, kind, compilation, classLocation, diagnostics, cancellationToken);
        CheckMemberNames(type, kind, compilation, classLocation, diagnostics);
        CheckHiddenNames(type, kind, compilation, classLocation, diagnostics, cancellationToken);

        CheckUninitializedMembers(type, kind.ToLowerInvariant(), diagnostics, cancellationToken);
    }

    /// <summary>DSL0001: a top-level, non-generic, non-static partial class that is not a record or file-local.</summary>
    private static void CheckShape(INamedTypeSymbol type, string kind, Location classLocation, List<ParseDiagnostic> diagnostics, CancellationToken cancellationToken)
    {
        string? problem = !TypeChains.IsPartialEverywhere(type, cancellationToken) ? "is not partial"
            : type.IsRecord ? "is a record"
            : type.IsFileLocal ? "is file-local"
            : type.ContainingType is not null ? "is nested in another type"
            : type.IsGenericType ? "is generic"
            : type.IsStatic ? "is static"
            : kind == "Block" && type.IsAbstract ? "is abstract (the networks that use it create its instances)"
            : null;
        if (problem is not null)
        {
            diagnostics.Add(new ParseDiagnostic(
                DiagnosticIds.NetworkMustBePartial,
                classLocation,
                string.Format(CultureInfo.InvariantCulture, "{2} class '{0}' {1}; a {3} must be a top-level, non-generic, non-static partial class", type.Name, problem, kind, kind.ToLowerInvariant())));
        }
    }

    /// <summary>
    /// DSL0010: the generated constructor <c>(Device device, ulong seed = 0)</c> calls <c>base()</c> and no other
    /// constructor, which a primary constructor forbids and a base class must allow.
    /// </summary>
    private static void CheckConstructor(INamedTypeSymbol type, string kind, Compilation compilation, Location classLocation, List<ParseDiagnostic> diagnostics, CancellationToken cancellationToken)
    {
        if (type.IsRecord || type.IsStatic)
        {
            return; // DSL0001 already says the class cannot be a network.
        }

        foreach (SyntaxReference reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(cancellationToken) is ClassDeclarationSyntax { ParameterList: not null } declaration)
            {
                diagnostics.Add(new ParseDiagnostic(
                    DiagnosticIds.ConstructorUnavailable,
                    declaration.ParameterList.GetLocation(),
                    string.Format(CultureInfo.InvariantCulture, "{1} class '{0}' has a primary constructor; the generated constructor ({2}) must be the one that creates it: remove the parameter list", type.Name, kind, GeneratedConstructor(kind))));
                return;
            }
        }

        INamedTypeSymbol? baseType = type.BaseType;
        if (baseType is null || baseType.SpecialType == SpecialType.System_Object || baseType.TypeKind == TypeKind.Error)
        {
            return;
        }

        bool callable = baseType.InstanceConstructors.Any(constructor =>
            constructor.Parameters.All(p => p.IsOptional || p.IsParams)
            && compilation.IsSymbolAccessibleWithin(constructor, type));
        if (!callable)
        {
            diagnostics.Add(new ParseDiagnostic(
                DiagnosticIds.ConstructorUnavailable,
                classLocation,
                string.Format(CultureInfo.InvariantCulture, "{2} class '{0}' derives from '{1}', which has no accessible constructor without arguments; the generated constructor calls base(): give '{1}' one, or do not derive from it", type.Name, baseType.Name, kind)));
        }
    }

    /// <summary>
    /// DSL0009: the class's own name, its members (other than layers, checked with them), an inherited accessible
    /// member, or a constructor (Dsl.Device, ulong) that the generated part would duplicate, hide or clash with.
    /// </summary>
    private static void CheckMemberNames(INamedTypeSymbol type, string kind, Compilation compilation, Location classLocation, List<ParseDiagnostic> diagnostics)
    {
        if (GeneratedMembers.IsReserved(type.Name))
        {
            diagnostics.Add(new ParseDiagnostic(
                DiagnosticIds.NameCollision,
                classLocation,
                string.Format(CultureInfo.InvariantCulture, "{1} class '{0}' has the name of a member the generator writes into it (a member cannot have its class's name); rename the class", type.Name, kind)));
        }

        foreach (ISymbol member in type.GetMembers())
        {
            if (member.IsImplicitlyDeclared || member.DeclaringSyntaxReferences.Length == 0 || NetworkParser.IsGenerated(member))
            {
                continue;
            }

            string? clash = null;
            if (member is IMethodSymbol { MethodKind: MethodKind.Constructor } constructor
                && (kind == "Block"
                    ? constructor.Parameters.Length == 1 && NetworkParser.FullName(constructor.Parameters[0].Type as INamedTypeSymbol) == "Dsl.Graphs.GraphBuilder"
                    : constructor.Parameters.Length == 2
                        && NetworkParser.FullName(constructor.Parameters[0].Type as INamedTypeSymbol) == "Dsl.Device"
                        && constructor.Parameters[1].Type.SpecialType == SpecialType.System_UInt64))
            {
                clash = kind == "Block" ? "constructor (Dsl.Graphs.GraphBuilder)" : "constructor (Dsl.Device, ulong)";
            }
            else if (member is not IPropertySymbol { IsPartialDefinition: true } && member is not IMethodSymbol { MethodKind: not MethodKind.Ordinary } && GeneratedMembers.IsReserved(member.Name))
            {
                clash = "member '" + member.Name + "'";
            }

            if (clash is not null)
            {
                diagnostics.Add(new ParseDiagnostic(
                    DiagnosticIds.NameCollision,
                    member.Locations.FirstOrDefault() ?? classLocation,
                    string.Format(CultureInfo.InvariantCulture, "The {0} of {2} '{1}' collides with a member the generator writes; rename or remove it", clash, type.Name, kind.ToLowerInvariant())));
            }
        }

        for (INamedTypeSymbol? baseType = type.BaseType; baseType is not null && baseType.SpecialType != SpecialType.System_Object; baseType = baseType.BaseType)
        {
            foreach (ISymbol member in baseType.GetMembers())
            {
                if (member.CanBeReferencedByName
                    && member is not IMethodSymbol { MethodKind: MethodKind.Constructor or MethodKind.StaticConstructor }
                    && GeneratedMembers.IsReserved(member.Name)
                    && compilation.IsSymbolAccessibleWithin(member, type))
                {
                    diagnostics.Add(new ParseDiagnostic(
                        DiagnosticIds.NameCollision,
                        classLocation,
                        string.Format(CultureInfo.InvariantCulture, "{3} class '{0}' inherits member '{1}' from '{2}', which the generated member of the same name would hide; rename it in '{2}', make it private, or do not derive from '{2}'", type.Name, member.Name, baseType.Name, kind)));
                    return;
                }
            }
        }
    }

    private static string GeneratedConstructor(string kind) => kind == "Block" ? "Dsl.Graphs.GraphBuilder builder" : "Dsl.Device device, ulong seed = 0";

    /// <summary>DSL0012: a type of this project hides a namespace or type the generated code names.</summary>
    private static void CheckHiddenNames(INamedTypeSymbol type, string kind, Compilation compilation, Location classLocation, List<ParseDiagnostic> diagnostics, CancellationToken cancellationToken)
    {
        foreach ((ISymbol hiding, string name) in HiddenNames.Find(compilation, cancellationToken))
        {
            string what = hiding is INamespaceSymbol ? "Namespace" : "Type";
            int dot = name.IndexOf('.');
            string fix = dot < 0 ? "rename it" : "rename it or move it out of namespace " + name.Substring(0, dot);
            diagnostics.Add(new ParseDiagnostic(
                DiagnosticIds.NameHidden,
                classLocation,
                string.Format(CultureInfo.InvariantCulture, "{0} '{1}' declared in this project hides the referenced '{1}', which the code generated for {4} '{2}' names; {3}", what, name, type.Name, fix, kind.ToLowerInvariant())));
        }
    }

    /// <summary>
    /// DSL0011 (a warning): a non-nullable instance field or auto-property without an initializer. The generated
    /// constructor does not set it, so it would be null in every network the constructor creates.
    /// </summary>
    private static void CheckUninitializedMembers(INamedTypeSymbol type, string kind, List<ParseDiagnostic> diagnostics, CancellationToken cancellationToken)
    {
        if (type.IsStatic)
        {
            return;
        }

        foreach (IFieldSymbol field in type.GetMembers().OfType<IFieldSymbol>())
        {
            ISymbol member = field.AssociatedSymbol is IPropertySymbol property ? property : field;
            if (field.IsStatic || field.IsConst || member.DeclaringSyntaxReferences.Length == 0 || NetworkParser.IsGenerated(member)
                || field.NullableAnnotation != NullableAnnotation.NotAnnotated
                || !(field.Type.IsReferenceType || field.Type is ITypeParameterSymbol { HasValueTypeConstraint: false })
                || (kind == "network" && member is IFieldSymbol { IsRequired: true } or IPropertySymbol { IsRequired: true })
                || HasInitializer(member, cancellationToken))
            {
                continue;
            }

            string what = member is IPropertySymbol ? "property" : "field";
            diagnostics.Add(new ParseDiagnostic(
                DiagnosticIds.MemberLeftUninitialized,
                member.Locations.FirstOrDefault() ?? Location.None,
                string.Format(CultureInfo.InvariantCulture, "Non-nullable {0} '{1}' of {3} '{2}' has no initializer, and the generated constructor does not set it: give it an initializer, make it nullable or required", what, member.Name, type.Name, kind)));
        }
    }

    private static bool HasInitializer(ISymbol member, CancellationToken cancellationToken)
    {
        foreach (SyntaxReference reference in member.DeclaringSyntaxReferences)
        {
            switch (reference.GetSyntax(cancellationToken))
            {
                case VariableDeclaratorSyntax { Initializer: not null }:
                case PropertyDeclarationSyntax { Initializer: not null }:
                    return true;
                case PropertyDeclarationSyntax { AccessorList: null }:
                    return true; // an expression body: no backing field to leave null
            }
        }

        return false;
    }
}
