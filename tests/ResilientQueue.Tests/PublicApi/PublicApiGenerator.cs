using System.Globalization;
using System.Reflection;
using System.Text;

namespace ResilientQueue.Tests.PublicApi;

/// <summary>
/// Produces a deterministic text listing of an assembly's exported surface: every type visible outside the assembly
/// (public, or protected and nested in an unsealed visible type), sorted by full name, followed by its public and
/// protected members, one line each, indented by two spaces. Types use C# syntax with full names; nullable reference
/// annotations are included because they are part of the contract. Compiler-generated members (the synthesized members
/// of records: <c>&lt;Clone&gt;$</c>, <c>EqualityContract</c>, <c>Equals</c>, <c>GetHashCode</c>, <c>ToString</c>,
/// <c>Deconstruct</c>, <c>op_Equality</c>, …) are left out; the type's <c>record</c> kind stands for them. Lines end
/// with <c>\n</c> and the text ends with a newline.
/// </summary>
public static class PublicApiGenerator
{
    private const BindingFlags DeclaredMembers =
        BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;

    private static readonly Dictionary<Type, string> Keywords = new()
    {
        [typeof(void)] = "void",
        [typeof(object)] = "object",
        [typeof(string)] = "string",
        [typeof(bool)] = "bool",
        [typeof(char)] = "char",
        [typeof(sbyte)] = "sbyte",
        [typeof(byte)] = "byte",
        [typeof(short)] = "short",
        [typeof(ushort)] = "ushort",
        [typeof(int)] = "int",
        [typeof(uint)] = "uint",
        [typeof(long)] = "long",
        [typeof(ulong)] = "ulong",
        [typeof(nint)] = "nint",
        [typeof(nuint)] = "nuint",
        [typeof(float)] = "float",
        [typeof(double)] = "double",
        [typeof(decimal)] = "decimal",
    };

    private static readonly Dictionary<string, string> Operators = new(StringComparer.Ordinal)
    {
        ["op_Addition"] = "+",
        ["op_CheckedAddition"] = "checked +",
        ["op_Subtraction"] = "-",
        ["op_CheckedSubtraction"] = "checked -",
        ["op_Multiply"] = "*",
        ["op_CheckedMultiply"] = "checked *",
        ["op_Division"] = "/",
        ["op_CheckedDivision"] = "checked /",
        ["op_Modulus"] = "%",
        ["op_BitwiseAnd"] = "&",
        ["op_BitwiseOr"] = "|",
        ["op_ExclusiveOr"] = "^",
        ["op_LeftShift"] = "<<",
        ["op_RightShift"] = ">>",
        ["op_UnsignedRightShift"] = ">>>",
        ["op_Equality"] = "==",
        ["op_Inequality"] = "!=",
        ["op_LessThan"] = "<",
        ["op_GreaterThan"] = ">",
        ["op_LessThanOrEqual"] = "<=",
        ["op_GreaterThanOrEqual"] = ">=",
        ["op_UnaryPlus"] = "+",
        ["op_UnaryNegation"] = "-",
        ["op_CheckedUnaryNegation"] = "checked -",
        ["op_LogicalNot"] = "!",
        ["op_OnesComplement"] = "~",
        ["op_Increment"] = "++",
        ["op_CheckedIncrement"] = "checked ++",
        ["op_Decrement"] = "--",
        ["op_CheckedDecrement"] = "checked --",
        ["op_True"] = "true",
        ["op_False"] = "false",
    };

    private enum MemberKind
    {
        Constructor,
        Field,
        Property,
        Event,
        Method,
        Operator,
    }

    /// <summary>Lists the exported surface of <paramref name="assembly"/>.</summary>
    /// <param name="assembly">The assembly.</param>
    /// <returns>The listing; <c>\n</c> line endings, ending with a newline.</returns>
    public static string Generate(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);

        // NullabilityInfoContext caches per instance and is not thread-safe: one per call.
        var nullability = new Annotations();
        var types = assembly.GetTypes()
            .Where(IsExported)
            .Where(t => !IsCompilerGenerated(t))
            .Select(t => (Type: t, Name: FormatTypeName(t, null, isDeclaration: true)))
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .ToList();

        var builder = new StringBuilder();
        foreach (var (type, _) in types)
        {
            builder.Append(FormatTypeHeader(type, nullability)).Append('\n');
            foreach (var line in GetMemberLines(type, nullability))
            {
                builder.Append("  ").Append(line).Append('\n');
            }
        }

        return builder.ToString();
    }

    // ---- Types ----------------------------------------------------------------------------------------------------

    private static bool IsExported(Type type)
    {
        if (!type.IsNested)
        {
            return type.IsPublic;
        }

        var declaring = type.DeclaringType!;
        var visible = type.IsNestedPublic || ((type.IsNestedFamily || type.IsNestedFamORAssem) && !declaring.IsSealed);
        return visible && IsExported(declaring);
    }

    private static string FormatTypeHeader(Type type, Annotations nullability)
    {
        var access = type.IsNested && !type.IsNestedPublic ? "protected" : "public";
        var name = FormatTypeName(type, null, isDeclaration: true);

        if (IsDelegate(type))
        {
            var invoke = type.GetMethod("Invoke")!;
            return $"{access} delegate {FormatReturnType(invoke, nullability)} {name}({FormatParameters(invoke, nullability)}){FormatConstraints(type.GetGenericArguments())}";
        }

        var header = new StringBuilder();
        header.Append(access).Append(' ');
        if (type.IsEnum)
        {
            if (type.IsDefined(typeof(FlagsAttribute), inherit: false))
            {
                header.Insert(0, "[System.Flags] ");
            }

            header.Append("enum ").Append(name);
            var underlying = Enum.GetUnderlyingType(type);
            if (underlying != typeof(int))
            {
                header.Append(" : ").Append(FormatTypeName(underlying, null));
            }

            return header.ToString();
        }

        header.Append(GetTypeKind(type)).Append(' ').Append(name);

        var bases = new List<string>();
        var baseType = type.BaseType;
        if (baseType is not null && baseType != typeof(object) && baseType != typeof(ValueType))
        {
            bases.Add(FormatTypeName(baseType, null));
        }

        var inherited = baseType?.GetInterfaces() ?? [];
        bases.AddRange(type.GetInterfaces()
            .Where(i => IsVisibleOutside(i) && !inherited.Contains(i))
            .Select(i => FormatTypeName(i, null))
            .OrderBy(i => i, StringComparer.Ordinal));
        if (bases.Count > 0)
        {
            header.Append(" : ").AppendJoin(", ", bases);
        }

        header.Append(FormatConstraints(type.GetGenericArguments()));
        return header.ToString();
    }

    private static string GetTypeKind(Type type)
    {
        if (type.IsInterface)
        {
            return "interface";
        }

        if (type.IsValueType)
        {
            var kind = new StringBuilder();
            if (HasAttribute(type, "System.Runtime.CompilerServices.IsReadOnlyAttribute"))
            {
                kind.Append("readonly ");
            }

            if (type.IsByRefLike)
            {
                kind.Append("ref ");
            }

            // A record struct has the synthesized PrintMembers(StringBuilder) but, being a struct, no <Clone>$.
            kind.Append(IsRecordStruct(type) ? "record struct" : "struct");
            return kind.ToString();
        }

        var isRecord = type.GetMethod("<Clone>$", DeclaredMembers) is not null;
        var noun = isRecord ? "record" : "class";
        if (type.IsAbstract && type.IsSealed)
        {
            return "static " + noun;
        }

        if (type.IsAbstract)
        {
            return "abstract " + noun;
        }

        return type.IsSealed ? "sealed " + noun : noun;
    }

    private static bool IsRecordStruct(Type type) =>
        type.GetMethod("PrintMembers", DeclaredMembers, [typeof(StringBuilder)]) is { } printMembers
        && printMembers.ReturnType == typeof(bool)
        && IsCompilerGenerated(printMembers);

    private static bool IsDelegate(Type type) => type.BaseType == typeof(MulticastDelegate);

    private static bool IsVisibleOutside(Type type) =>
        type.IsGenericParameter || (type.IsVisible && type.GetGenericArguments().All(IsVisibleOutside));

    // ---- Members --------------------------------------------------------------------------------------------------

    private static List<string> GetMemberLines(Type type, Annotations nullability)
    {
        var members = new List<(MemberKind Kind, long Order, string Name, string Line)>();
        if (IsDelegate(type))
        {
            return [];
        }

        if (type.IsEnum)
        {
            foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Static))
            {
                var raw = field.GetRawConstantValue()!;
                var order = raw is ulong big ? unchecked((long)big) : Convert.ToInt64(raw, CultureInfo.InvariantCulture);
                members.Add((MemberKind.Field, order, field.Name, $"{field.Name} = {FormatPrimitive(raw)}"));
            }
        }
        else
        {
            var accessors = new HashSet<MethodInfo>();

            foreach (var property in type.GetProperties(DeclaredMembers))
            {
                foreach (var accessor in property.GetAccessors(nonPublic: true))
                {
                    accessors.Add(accessor);
                }

                if (IsCompilerGenerated(property) || !property.GetAccessors(nonPublic: true).Any(a => IsVisible(a, type)))
                {
                    continue;
                }

                var isIndexer = property.GetIndexParameters().Length > 0;
                members.Add((MemberKind.Property, 0, isIndexer ? "this[]" : property.Name, FormatProperty(property, type, nullability)));
            }

            foreach (var @event in type.GetEvents(DeclaredMembers))
            {
                var eventAccessors = new[] { @event.AddMethod, @event.RemoveMethod, @event.RaiseMethod }.OfType<MethodInfo>().ToList();
                accessors.UnionWith(eventAccessors);
                if (IsCompilerGenerated(@event) || !eventAccessors.Any(a => IsVisible(a, type)))
                {
                    continue;
                }

                members.Add((MemberKind.Event, 0, @event.Name, FormatEvent(@event, type, nullability)));
            }

            foreach (var constructor in type.GetConstructors(DeclaredMembers))
            {
                if (!constructor.IsStatic && IsVisible(constructor, type) && !IsCompilerGenerated(constructor))
                {
                    members.Add((MemberKind.Constructor, 0, ".ctor", FormatConstructor(constructor, type, nullability)));
                }
            }

            foreach (var field in type.GetFields(DeclaredMembers))
            {
                if (IsVisible(field, type) && !field.IsSpecialName && !IsCompilerGenerated(field))
                {
                    members.Add((MemberKind.Field, 0, field.Name, FormatField(field, nullability)));
                }
            }

            foreach (var method in type.GetMethods(DeclaredMembers))
            {
                if (accessors.Contains(method) || !IsVisible(method, type) || IsCompilerGenerated(method))
                {
                    continue;
                }

                var isOperator = method.IsSpecialName && (Operators.ContainsKey(method.Name) || IsConversion(method));
                members.Add((isOperator ? MemberKind.Operator : MemberKind.Method, 0, method.Name, FormatMethod(method, type, nullability, isOperator)));
            }
        }

        return members
            .OrderBy(m => m.Kind)
            .ThenBy(m => m.Order)
            .ThenBy(m => m.Name, StringComparer.Ordinal)
            .ThenBy(m => m.Line, StringComparer.Ordinal)
            .Select(m => m.Line)
            .ToList();
    }

    private static bool IsVisible(MethodBase method, Type declaringType) =>
        method.IsPublic || ((method.IsFamily || method.IsFamilyOrAssembly) && !declaringType.IsSealed);

    private static bool IsVisible(FieldInfo field, Type declaringType) =>
        field.IsPublic || ((field.IsFamily || field.IsFamilyOrAssembly) && !declaringType.IsSealed);

    private static string Accessibility(MethodBase method) => method.IsPublic ? "public" : "protected";

    private static bool IsConversion(MethodInfo method) => method.Name is "op_Implicit" or "op_Explicit" or "op_CheckedExplicit";

    private static string FormatConstructor(ConstructorInfo constructor, Type type, Annotations nullability)
    {
        var name = type.Name;
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        if (tick >= 0)
        {
            name = name[..tick];
        }

        return $"{Accessibility(constructor)} {name}({FormatParameters(constructor, nullability)})";
    }

    private static string FormatField(FieldInfo field, Annotations nullability)
    {
        var line = new StringBuilder(field.IsPublic ? "public " : "protected ");
        if (field.IsLiteral)
        {
            line.Append("const ");
        }
        else
        {
            if (field.IsStatic)
            {
                line.Append("static ");
            }

            if (field.IsInitOnly)
            {
                line.Append("readonly ");
            }
        }

        if (HasAttribute(field, "System.Runtime.CompilerServices.RequiredMemberAttribute"))
        {
            line.Append("required ");
        }

        line.Append(FormatType(field.FieldType, nullability.For(field))).Append(' ').Append(field.Name);
        if (field.IsLiteral)
        {
            line.Append(" = ").Append(FormatConstant(field.GetRawConstantValue(), field.FieldType));
        }

        return line.ToString();
    }

    private static string FormatProperty(PropertyInfo property, Type type, Annotations nullability)
    {
        var getter = property.GetMethod is { } g && IsVisible(g, type) ? g : null;
        var setter = property.SetMethod is { } s && IsVisible(s, type) ? s : null;
        var main = getter is not null && (setter is null || getter.IsPublic || !setter.IsPublic) ? getter : setter!;

        var line = new StringBuilder();
        line.Append(Accessibility(main)).Append(' ').Append(MethodModifiers(main));
        if (HasAttribute(property, "System.Runtime.CompilerServices.RequiredMemberAttribute"))
        {
            line.Append("required ");
        }

        line.Append(FormatType(property.PropertyType, nullability.For(property, useWriteState: getter is null))).Append(' ');

        var index = property.GetIndexParameters();
        if (index.Length > 0)
        {
            line.Append("this[").AppendJoin(", ", index.Select(p => FormatParameter(p, nullability))).Append(']');
        }
        else
        {
            line.Append(property.Name);
        }

        line.Append(" {");
        if (getter is not null)
        {
            line.Append(' ').Append(AccessorPrefix(getter, main)).Append("get;");
        }

        if (setter is not null)
        {
            var isInit = setter.ReturnParameter.GetRequiredCustomModifiers()
                .Any(m => m.FullName == "System.Runtime.CompilerServices.IsExternalInit");
            line.Append(' ').Append(AccessorPrefix(setter, main)).Append(isInit ? "init;" : "set;");
        }

        line.Append(" }");
        return line.ToString();
    }

    private static string AccessorPrefix(MethodInfo accessor, MethodInfo main) =>
        accessor.IsPublic == main.IsPublic ? string.Empty : Accessibility(accessor) + " ";

    private static string FormatEvent(EventInfo @event, Type type, Annotations nullability)
    {
        var adder = @event.AddMethod is { } a && IsVisible(a, type) ? a : @event.RemoveMethod!;
        var handler = @event.EventHandlerType!;
        return $"{Accessibility(adder)} {MethodModifiers(adder)}event {FormatType(handler, nullability.For(@event))} {@event.Name}";
    }

    private static string FormatMethod(MethodInfo method, Type type, Annotations nullability, bool isOperator)
    {
        var line = new StringBuilder();
        line.Append(Accessibility(method)).Append(' ').Append(MethodModifiers(method));

        var returnType = FormatReturnType(method, nullability);
        if (isOperator && IsConversion(method))
        {
            line.Append(method.Name == "op_Implicit" ? "implicit" : "explicit")
                .Append(method.Name == "op_CheckedExplicit" ? " operator checked " : " operator ")
                .Append(returnType);
        }
        else
        {
            line.Append(returnType).Append(' ');
            if (isOperator)
            {
                line.Append("operator ").Append(Operators[method.Name]);
            }
            else
            {
                line.Append(method.Name);
            }
        }

        var genericArguments = method.IsGenericMethodDefinition ? method.GetGenericArguments() : [];
        if (genericArguments.Length > 0)
        {
            line.Append('<').AppendJoin(", ", genericArguments.Select(FormatGenericParameterDeclaration)).Append('>');
        }

        var isExtension = method.IsStatic && type.IsAbstract && type.IsSealed
            && HasAttribute(method, "System.Runtime.CompilerServices.ExtensionAttribute");
        line.Append('(');
        if (isExtension)
        {
            line.Append("this ");
        }

        line.Append(FormatParameters(method, nullability)).Append(')');
        line.Append(FormatConstraints(genericArguments));
        return line.ToString();
    }

    private static string MethodModifiers(MethodInfo method)
    {
        var declaring = method.DeclaringType!;
        if (method.IsStatic)
        {
            return method.IsAbstract ? "static abstract " : declaring.IsInterface && method.IsVirtual ? "static virtual " : "static ";
        }

        if (declaring.IsInterface)
        {
            // Interface members are implicitly abstract; a default implementation is marked virtual.
            return method.IsAbstract || !method.IsVirtual ? string.Empty : "virtual ";
        }

        var isOverride = method.IsVirtual && method.GetBaseDefinition().DeclaringType != declaring;
        if (isOverride)
        {
            return (method.IsFinal ? "sealed " : string.Empty) + (method.IsAbstract ? "abstract override " : "override ");
        }

        if (method.IsAbstract)
        {
            return "abstract ";
        }

        // Implicit interface implementations are emitted as "virtual final"; they are not virtual in C#.
        return method.IsVirtual && !method.IsFinal ? "virtual " : string.Empty;
    }

    private static string FormatReturnType(MethodInfo method, Annotations nullability)
    {
        var parameter = method.ReturnParameter;
        var type = parameter.ParameterType;
        var prefix = string.Empty;
        if (type.IsByRef)
        {
            prefix = HasAttribute(parameter, "System.Runtime.CompilerServices.IsReadOnlyAttribute") ? "ref readonly " : "ref ";
        }

        return prefix + FormatType(type, nullability.For(parameter, useWriteState: false));
    }

    private static string FormatParameters(MethodBase method, Annotations nullability) =>
        string.Join(", ", method.GetParameters().Select(p => FormatParameter(p, nullability)));

    private static string FormatParameter(ParameterInfo parameter, Annotations nullability)
    {
        var line = new StringBuilder();
        var type = parameter.ParameterType;
        var isOut = false;
        if (type.IsByRef)
        {
            if (parameter.IsOut && !parameter.IsIn)
            {
                line.Append("out ");
                isOut = true;
            }
            else if (HasAttribute(parameter, "System.Runtime.CompilerServices.RequiresLocationAttribute"))
            {
                line.Append("ref readonly ");
            }
            else if (parameter.IsIn || HasAttribute(parameter, "System.Runtime.CompilerServices.IsReadOnlyAttribute"))
            {
                line.Append("in ");
            }
            else
            {
                line.Append("ref ");
            }
        }
        else if (HasAttribute(parameter, "System.ParamArrayAttribute") || HasAttribute(parameter, "System.Runtime.CompilerServices.ParamCollectionAttribute"))
        {
            line.Append("params ");
        }

        // What a caller may pass in is the parameter's write state; what it gets back from an out parameter, the read state.
        line.Append(FormatType(type, nullability.For(parameter, useWriteState: !isOut)));
        if (parameter.Name is { Length: > 0 } name)
        {
            line.Append(' ').Append(name);
        }

        if (parameter.HasDefaultValue)
        {
            line.Append(" = ").Append(FormatConstant(parameter.RawDefaultValue, type.IsByRef ? type.GetElementType()! : type));
        }

        return line.ToString();
    }

    // ---- Generic parameters ---------------------------------------------------------------------------------------

    private static string FormatGenericParameterDeclaration(Type parameter)
    {
        var variance = parameter.GenericParameterAttributes & GenericParameterAttributes.VarianceMask;
        return variance switch
        {
            GenericParameterAttributes.Covariant => "out " + parameter.Name,
            GenericParameterAttributes.Contravariant => "in " + parameter.Name,
            _ => parameter.Name,
        };
    }

    private static string FormatConstraints(Type[] genericArguments)
    {
        var text = new StringBuilder();
        foreach (var parameter in genericArguments.Where(a => a.IsGenericParameter))
        {
            // A nested type repeats its declaring type's parameters; only constrain the ones it declares.
            if (parameter.DeclaringMethod is null && parameter.DeclaringType is { IsNested: true } owner
                && owner.DeclaringType!.GetGenericArguments().Any(a => a.Name == parameter.Name))
            {
                continue;
            }

            var attributes = parameter.GenericParameterAttributes;
            var constraints = new List<string>();
            var isStruct = attributes.HasFlag(GenericParameterAttributes.NotNullableValueTypeConstraint);
            if (isStruct)
            {
                constraints.Add(HasAttribute(parameter, "System.Runtime.CompilerServices.IsUnmanagedAttribute") ? "unmanaged" : "struct");
            }
            else if (attributes.HasFlag(GenericParameterAttributes.ReferenceTypeConstraint))
            {
                constraints.Add("class");
            }

            constraints.AddRange(parameter.GetGenericParameterConstraints()
                .Where(c => !(isStruct && c == typeof(ValueType)))
                .Select(c => FormatTypeName(c, null))
                .OrderBy(c => c, StringComparer.Ordinal));

            if (attributes.HasFlag(GenericParameterAttributes.DefaultConstructorConstraint) && !isStruct)
            {
                constraints.Add("new()");
            }

            if (attributes.HasFlag((GenericParameterAttributes)0x20))
            {
                constraints.Add("allows ref struct");
            }

            if (constraints.Count > 0)
            {
                text.Append(" where ").Append(parameter.Name).Append(" : ").AppendJoin(", ", constraints);
            }
        }

        return text.ToString();
    }

    // ---- Type names -----------------------------------------------------------------------------------------------

    private static string FormatType(Type type, Nullness? nullness) =>
        FormatTypeName(type.IsByRef ? type.GetElementType()! : type, nullness);

    /// <summary>
    /// Formats a type in C# syntax with full names; with <paramref name="nullness"/>, with its nullable annotations; as
    /// a <paramref name="isDeclaration"/>, with the variance of its type parameters.
    /// </summary>
    private static string FormatTypeName(Type type, Nullness? nullness, bool isDeclaration = false)
    {
        var question = nullness is { IsNullable: true } && !type.IsValueType ? "?" : string.Empty;

        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            // The annotations of T? describe T's generic arguments, as NullabilityInfo does.
            return FormatTypeName(underlying, nullness) + "?";
        }

        if (type.IsArray)
        {
            var rank = type.GetArrayRank();
            return FormatTypeName(type.GetElementType()!, nullness?.Element) + "[" + new string(',', rank - 1) + "]" + question;
        }

        if (type.IsPointer)
        {
            return FormatTypeName(type.GetElementType()!, null) + "*";
        }

        if (type.IsByRef)
        {
            return "ref " + FormatTypeName(type.GetElementType()!, nullness);
        }

        if (type.IsGenericParameter)
        {
            return type.Name + question;
        }

        if (Keywords.TryGetValue(type, out var keyword))
        {
            return keyword + question;
        }

        var arguments = type.GetGenericArguments();
        var argumentNullness = nullness?.Arguments;
        string FormatArgument(int i) =>
            FormatTypeName(arguments[i], argumentNullness is not null && argumentNullness.Count == arguments.Length ? argumentNullness[i] : null);

        if (type.IsConstructedGenericType && type.FullName?.StartsWith("System.ValueTuple`", StringComparison.Ordinal) == true
            && arguments.Length is >= 2 and <= 7)
        {
            return "(" + string.Join(", ", Enumerable.Range(0, arguments.Length).Select(FormatArgument)) + ")";
        }

        // Outer<T>.Inner<U>: the type's generic arguments are shared out among its declaring types, outermost first.
        var chain = new List<Type>();
        for (var t = type; t is not null; t = t.DeclaringType)
        {
            chain.Insert(0, t);
        }

        var name = new StringBuilder();
        if (!string.IsNullOrEmpty(chain[0].Namespace))
        {
            name.Append(chain[0].Namespace).Append('.');
        }

        var used = 0;
        for (var level = 0; level < chain.Count; level++)
        {
            var simple = chain[level].Name;
            var tick = simple.IndexOf('`', StringComparison.Ordinal);
            var arity = 0;
            if (tick >= 0)
            {
                arity = int.Parse(simple[(tick + 1)..], CultureInfo.InvariantCulture);
                simple = simple[..tick];
            }

            if (level > 0)
            {
                name.Append('.');
            }

            name.Append(simple);
            if (arity > 0 && used + arity <= arguments.Length)
            {
                name.Append('<');
                for (var i = used; i < used + arity; i++)
                {
                    if (i > used)
                    {
                        name.Append(", ");
                    }

                    name.Append(isDeclaration ? FormatGenericParameterDeclaration(arguments[i]) : FormatArgument(i));
                }

                name.Append('>');
                used += arity;
            }
        }

        return name.Append(question).ToString();
    }

    // ---- Constants ------------------------------------------------------------------------------------------------

    private static string FormatConstant(object? value, Type type)
    {
        if (value is null || value is DBNull || value is Missing)
        {
            return type.IsValueType && Nullable.GetUnderlyingType(type) is null ? "default" : "null";
        }

        var enumType = Nullable.GetUnderlyingType(type) ?? type;
        if (enumType.IsEnum)
        {
            var name = Enum.GetName(enumType, value);
            return name is not null
                ? FormatTypeName(enumType, null) + "." + name
                : "(" + FormatTypeName(enumType, null) + ")" + FormatPrimitive(value);
        }

        return FormatPrimitive(value);
    }

    private static string FormatPrimitive(object value) => value switch
    {
        string s => "\"" + Escape(s) + "\"",
        char c => "'" + Escape(c.ToString()) + "'",
        bool b => b ? "true" : "false",
        float f => f.ToString("R", CultureInfo.InvariantCulture) + "F",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        decimal m => m.ToString(CultureInfo.InvariantCulture) + "M",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    private static string Escape(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(c switch
            {
                '\\' => "\\\\",
                '"' => "\\\"",
                '\'' => "\\'",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\0' => "\\0",
                _ when char.IsControl(c) => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
                _ => c.ToString(),
            });
        }

        return builder.ToString();
    }

    // ---- Nullable annotations -------------------------------------------------------------------------------------

    /// <summary>Whether a type, its array element and its generic arguments are annotated nullable.</summary>
    private sealed class Nullness(bool isNullable, Nullness? element, IReadOnlyList<Nullness> arguments)
    {
        public bool IsNullable { get; } = isNullable;

        public Nullness? Element { get; } = element;

        public IReadOnlyList<Nullness> Arguments { get; } = arguments;
    }

    /// <summary>
    /// Nullable annotations from <see cref="NullabilityInfoContext"/> (which also folds in <c>[AllowNull]</c>,
    /// <c>[MaybeNull]</c> and the like), except for uses of type parameters: for those the context reports the
    /// nullability the parameter's constraints allow (an unconstrained <c>T</c> always reads as nullable), so their
    /// annotation as written (<c>T</c> or <c>T?</c>) is read from the compiler's <c>NullableAttribute</c> instead.
    /// </summary>
    private sealed class Annotations
    {
        private const byte AnnotatedNullable = 2;

        private readonly NullabilityInfoContext _context = new();

        public Nullness For(ParameterInfo parameter, bool useWriteState) =>
            Combine(_context.Create(parameter), ReadRaw(parameter.ParameterType, parameter.CustomAttributes, parameter.Member), useWriteState,
                MaybeNullByAttribute(parameter.CustomAttributes, useWriteState));

        public Nullness For(PropertyInfo property, bool useWriteState) =>
            Combine(_context.Create(property), ReadRaw(property.PropertyType, property.CustomAttributes, property), useWriteState,
                MaybeNullByAttribute(
                    ((useWriteState ? property.SetMethod?.GetParameters()[^1] : property.GetMethod?.ReturnParameter)?.CustomAttributes ?? [])
                        .Concat(property.CustomAttributes),
                    useWriteState));

        public Nullness For(FieldInfo field) =>
            Combine(_context.Create(field), ReadRaw(field.FieldType, field.CustomAttributes, field), useWriteState: false,
                MaybeNullByAttribute(field.CustomAttributes, useWriteState: false));

        public Nullness For(EventInfo @event) =>
            Combine(_context.Create(@event), ReadRaw(@event.EventHandlerType!, @event.CustomAttributes, @event), useWriteState: false, topLevelMaybeNull: false);

        // [MaybeNull] T (what is read) and [AllowNull] T (what is written) mean T? for a type parameter.
        private static bool MaybeNullByAttribute(IEnumerable<CustomAttributeData> attributes, bool useWriteState)
        {
            var name = useWriteState
                ? "System.Diagnostics.CodeAnalysis.AllowNullAttribute"
                : "System.Diagnostics.CodeAnalysis.MaybeNullAttribute";
            return attributes.Any(a => a.AttributeType.FullName == name);
        }

        private static Nullness Combine(NullabilityInfo info, RawNullness? raw, bool useWriteState, bool topLevelMaybeNull)
        {
            var type = info.Type.IsByRef || info.Type.IsPointer ? info.Type.GetElementType()! : info.Type;
            var isNullable = type.IsGenericParameter && !type.IsValueType
                ? raw?.State == AnnotatedNullable || topLevelMaybeNull
                : (useWriteState ? info.WriteState : info.ReadState) == NullabilityState.Nullable;

            var element = info.ElementType is { } elementInfo ? Combine(elementInfo, raw?.Element, useWriteState, topLevelMaybeNull: false) : null;
            var rawArguments = raw?.Arguments;
            var arguments = info.GenericTypeArguments
                .Select((argument, i) => Combine(
                    argument,
                    rawArguments?.Count == info.GenericTypeArguments.Length ? rawArguments[i] : null,
                    useWriteState,
                    topLevelMaybeNull: false))
                .ToList();
            return new Nullness(isNullable, element, arguments);
        }

        private sealed record RawNullness(byte? State, RawNullness? Element, IReadOnlyList<RawNullness> Arguments);

        // The annotation bytes in the order the compiler writes them, walked the way NullabilityInfoContext walks them.
        private static RawNullness? ReadRaw(Type type, IEnumerable<CustomAttributeData> attributes, MemberInfo member)
        {
            var nullable = attributes.FirstOrDefault(a => a.AttributeType.FullName == "System.Runtime.CompilerServices.NullableAttribute");
            byte? single = null;
            byte[]? bytes = null;
            if (nullable?.ConstructorArguments is [var argument])
            {
                if (argument.Value is byte b)
                {
                    single = b;
                }
                else if (argument.Value is IReadOnlyCollection<CustomAttributeTypedArgument> values)
                {
                    bytes = values.Select(v => (byte)v.Value!).ToArray();
                }
            }

            var context = GetNullableContext(member);
            var index = 0;
            return Walk(type);

            RawNullness Walk(Type current)
            {
                var underlying = current.IsByRef || current.IsPointer ? current.GetElementType()! : current;
                byte? state = null;
                RawNullness? element = null;
                if (underlying.IsValueType)
                {
                    underlying = Nullable.GetUnderlyingType(underlying) ?? underlying;
                    if (underlying.IsGenericType)
                    {
                        index++;
                    }
                }
                else
                {
                    state = single ?? (bytes is not null && index < bytes.Length ? bytes[index] : (byte?)null) ?? context;
                    index++;
                    if (underlying.IsArray)
                    {
                        element = Walk(underlying.GetElementType()!);
                    }
                }

                var arguments = underlying.IsGenericType ? underlying.GetGenericArguments().Select(Walk).ToList() : [];
                return new RawNullness(state, element, arguments);
            }
        }

        private static byte? GetNullableContext(MemberInfo? member)
        {
            for (; member is not null; member = member.DeclaringType)
            {
                var attribute = member.CustomAttributes
                    .FirstOrDefault(a => a.AttributeType.FullName == "System.Runtime.CompilerServices.NullableContextAttribute");
                if (attribute?.ConstructorArguments is [{ Value: byte value }])
                {
                    return value;
                }
            }

            return null;
        }
    }

    // ---- Attributes -----------------------------------------------------------------------------------------------

    private static bool IsCompilerGenerated(MemberInfo member) =>
        HasAttribute(member, "System.Runtime.CompilerServices.CompilerGeneratedAttribute");

    // By name, not by type: compilers may embed their own copies of these attributes in the assembly.
    private static bool HasAttribute(MemberInfo member, string fullName) =>
        member.CustomAttributes.Any(a => a.AttributeType.FullName == fullName);

    private static bool HasAttribute(ParameterInfo parameter, string fullName) =>
        parameter.CustomAttributes.Any(a => a.AttributeType.FullName == fullName);
}
