using System.Globalization;
using System.Reflection;
using System.Runtime.Loader;

namespace ResilientQueue.Packaging.Tests.Infrastructure;

/// <summary>
/// The documentation comment IDs of an assembly's types and members, split by visibility outside the assembly, computed
/// through reflection: a second implementation, independent of eng/XmlDocs/FilterXmlDocsToPublicApi.cs (which reads
/// the metadata tables), to check what that filter kept and removed.
/// </summary>
internal sealed class ReflectedDocumentationIds
{
    private const BindingFlags Declared = BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;

    private ReflectedDocumentationIds(HashSet<string> visible, HashSet<string> hidden, HashSet<string> visibleTypes)
    {
        Visible = visible;
        Hidden = hidden;
        VisibleTypes = visibleTypes;
    }

    /// <summary>IDs of public and protected types and members of such types.</summary>
    public IReadOnlySet<string> Visible { get; }

    /// <summary>IDs of everything else: internal, private, private protected, and members of such types.</summary>
    public IReadOnlySet<string> Hidden { get; }

    public IReadOnlySet<string> VisibleTypes { get; }

    /// <summary>Reads an assembly in a context of its own, resolving its dependencies from <paramref name="probeDirectories"/>.</summary>
    public static ReflectedDocumentationIds Of(string assemblyPath, params string[] probeDirectories)
    {
        var context = new AssemblyLoadContext($"docs of {Path.GetFileName(assemblyPath)}", isCollectible: true);
        context.Resolving += (c, name) =>
        {
            string? found = probeDirectories.Select(d => Path.Combine(d, name.Name + ".dll")).FirstOrDefault(File.Exists);
            return found is null ? null : c.LoadFromAssemblyPath(found);
        };
        try
        {
            Assembly assembly = context.LoadFromAssemblyPath(assemblyPath);
            var visible = new HashSet<string>(StringComparer.Ordinal);
            var hidden = new HashSet<string>(StringComparer.Ordinal);
            var visibleTypes = new HashSet<string>(StringComparer.Ordinal);
            foreach (Type type in assembly.GetTypes())
            {
                bool typeVisible = IsVisible(type);
                string typeName = TypeName(type);
                (typeVisible ? visible : hidden).Add("T:" + typeName);
                if (typeVisible)
                {
                    visibleTypes.Add("T:" + typeName);
                }

                foreach (MemberInfo member in type.GetMembers(Declared))
                {
                    string? id = Id(typeName, member);
                    if (id is not null)
                    {
                        (typeVisible && IsVisible(member) ? visible : hidden).Add(id);
                    }
                }
            }

            return new ReflectedDocumentationIds(visible, hidden, visibleTypes);
        }
        finally
        {
            context.Unload();
        }
    }

    private static bool IsVisible(Type type) =>
        type.IsPublic || ((type.IsNestedPublic || type.IsNestedFamily || type.IsNestedFamORAssem) && IsVisible(type.DeclaringType!));

    private static bool IsVisible(MemberInfo member) => member switch
    {
        MethodBase method => method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly,
        FieldInfo field => field.IsPublic || field.IsFamily || field.IsFamilyOrAssembly,
        PropertyInfo property => new[] { property.GetMethod, property.SetMethod }.Any(a => a is not null && IsVisible(a)),
        EventInfo @event => new[] { @event.AddMethod, @event.RemoveMethod }.Any(a => a is not null && IsVisible(a)),
        _ => false,
    };

    private static string? Id(string typeName, MemberInfo member) => member switch
    {
        ConstructorInfo constructor => $"M:{typeName}.{(constructor.IsStatic ? "#cctor" : "#ctor")}{Parameters(constructor.GetParameters())}",
        MethodInfo method => $"M:{typeName}.{Encode(method.Name)}"
            + (method.IsGenericMethodDefinition ? "``" + method.GetGenericArguments().Length.ToString(CultureInfo.InvariantCulture) : string.Empty)
            + Parameters(method.GetParameters())
            + (method.Name is "op_Implicit" or "op_Explicit" ? "~" + Name(method.ReturnType) : string.Empty),
        PropertyInfo property => $"P:{typeName}.{Encode(property.Name)}{Parameters(property.GetIndexParameters())}",
        EventInfo @event => $"E:{typeName}.{Encode(@event.Name)}",
        FieldInfo field => $"F:{typeName}.{Encode(field.Name)}",
        _ => null, // nested types are listed by GetTypes
    };

    private static string Encode(string name) => name.Replace('.', '#').Replace('<', '{').Replace('>', '}');

    private static string Parameters(ParameterInfo[] parameters) =>
        parameters.Length == 0 ? string.Empty : "(" + string.Join(",", parameters.Select(p => Name(p.ParameterType))) + ")";

    /// <summary>A type as an ID names it: Namespace.Outer`1.Inner, Outer{System.Int32}, `0 and ``0, [], [0:,0:], @, *.</summary>
    private static string Name(Type type)
    {
        if (type.IsGenericParameter)
        {
            return (type.DeclaringMethod is null ? "`" : "``") + type.GenericParameterPosition.ToString(CultureInfo.InvariantCulture);
        }

        if (type.IsByRef)
        {
            return Name(type.GetElementType()!) + "@";
        }

        if (type.IsPointer)
        {
            return Name(type.GetElementType()!) + "*";
        }

        if (type.IsFunctionPointer)
        {
            return string.Empty;
        }

        if (type.IsArray)
        {
            return Name(type.GetElementType()!) + (type.IsSZArray
                ? "[]"
                : "[" + string.Join(",", Enumerable.Repeat("0:", type.GetArrayRank())) + "]");
        }

        // In a signature, Outer<T> used inside Outer<T> is the generic definition itself to reflection; an ID writes it
        // instantiated (Outer{`0}) like any other.
        if (type.IsGenericType)
        {
            return Instantiate(type.GetGenericTypeDefinition(), type.GetGenericArguments());
        }

        return TypeName(type);
    }

    /// <summary>A type definition's own name: Namespace.Outer`1.Inner`1.</summary>
    private static string TypeName(Type type) =>
        type.IsNested ? TypeName(type.DeclaringType!) + "." + type.Name : type.Namespace is null ? type.Name : type.Namespace + "." + type.Name;

    // Outer`1+Inner`1 with (A, B): Outer{A}.Inner{B}; each nesting level takes as many arguments as its own `n says.
    private static string Instantiate(Type definition, Type[] arguments)
    {
        var levels = new Stack<Type>();
        for (Type? level = definition; level is not null; level = level.DeclaringType)
        {
            levels.Push(level);
        }

        var parts = new List<string>();
        int next = 0;
        foreach (Type level in levels)
        {
            int tick = level.Name.IndexOf('`', StringComparison.Ordinal);
            string name = tick < 0 ? level.Name : level.Name[..tick];
            int arity = tick < 0 ? 0 : int.Parse(level.Name[(tick + 1)..], CultureInfo.InvariantCulture);
            string prefix = parts.Count == 0 && level.Namespace is not null ? level.Namespace + "." : string.Empty;
            parts.Add(prefix + name + (arity == 0 ? string.Empty : "{" + string.Join(",", arguments.Skip(next).Take(arity).Select(Name)) + "}"));
            next += arity;
        }

        return string.Join(".", parts);
    }
}
