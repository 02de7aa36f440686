// The code of the FilterXmlDocsToPublicApi inline task (eng/XmlDocs.targets, RoslynCodeTaskFactory). Not part of
// any project: MSBuild compiles it against netstandard2.0 and the netstandard2.0 System.Reflection.Metadata.
//
// The compiler writes the /// docs of every member into the documentation file, internal and private ones too. This
// task reads the built assembly's metadata, computes the documentation comment ID of every type and member (C# spec,
// "Documentation comments", ID string format), and keeps only the <member> entries of symbols visible outside the
// assembly: public or protected (protected internal) types and members of such types. An entry whose ID matches no
// symbol of the assembly is an error, so a gap in the ID rules fails the build instead of silently dropping docs.
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class FilterXmlDocsToPublicApi : Task
{
    /// <summary>The built assembly (obj/…/X.dll).</summary>
    [Required]
    public string AssemblyFile { get; set; }

    /// <summary>The documentation file the compiler wrote (obj/…/X.xml); rewritten in place.</summary>
    [Required]
    public string DocumentationFile { get; set; }

    /// <summary>Where to list the IDs of the removed entries, one a line (also this step's up-to-date marker).</summary>
    [Required]
    public string RemovedListFile { get; set; }

    public override bool Execute()
    {
        var visible = new HashSet<string>(StringComparer.Ordinal);
        var hidden = new HashSet<string>(StringComparer.Ordinal);
        using (var stream = File.OpenRead(AssemblyFile))
        using (var pe = new PEReader(stream))
        {
            DocumentationIds.Collect(pe.GetMetadataReader(), visible, hidden);
        }

        var document = XDocument.Load(DocumentationFile, LoadOptions.PreserveWhitespace);
        var members = document.Root == null ? null : document.Root.Element("members");
        var removed = new List<string>();
        var kept = 0;
        if (members != null)
        {
            foreach (var member in members.Elements("member").ToList())
            {
                var id = (string)member.Attribute("name") ?? "";
                if (visible.Contains(id))
                {
                    kept++;
                    continue;
                }

                if (!hidden.Contains(id))
                {
                    Log.LogError(null, "RQDOC001", null, DocumentationFile, 0, 0, 0, 0,
                        "The documentation entry '{0}' matches no type or member of {1}: the documentation ID rules in eng/XmlDocs/FilterXmlDocsToPublicApi.cs miss a case.",
                        id, Path.GetFileName(AssemblyFile));
                    continue;
                }

                removed.Add(id);
                var before = member.PreviousNode as XText;
                if (before != null && string.IsNullOrWhiteSpace(before.Value))
                {
                    before.Remove();
                }

                member.Remove();
            }
        }

        if (Log.HasLoggedErrors)
        {
            return false;
        }

        if (removed.Count > 0)
        {
            var settings = new XmlWriterSettings { Encoding = new UTF8Encoding(false) };
            using (var writer = XmlWriter.Create(DocumentationFile, settings))
            {
                document.Save(writer);
            }
        }

        File.WriteAllLines(RemovedListFile, removed);
        Log.LogMessage(MessageImportance.Low, "{0}: kept the docs of {1} visible symbols, removed {2} internal or private ones.",
            Path.GetFileName(DocumentationFile), kept, removed.Count);
        return true;
    }
}

/// <summary>Documentation comment IDs of every type and member in an assembly's metadata.</summary>
internal static class DocumentationIds
{
    public static void Collect(MetadataReader reader, HashSet<string> visible, HashSet<string> hidden)
    {
        var types = new SignatureTypeNames();
        foreach (var typeHandle in reader.TypeDefinitions)
        {
            var type = reader.GetTypeDefinition(typeHandle);
            var typeName = types.GetTypeFromDefinition(reader, typeHandle, 0);
            if (typeName == "<Module>")
            {
                continue;
            }

            var typeVisible = IsVisible(reader, type);
            (typeVisible ? visible : hidden).Add("T:" + typeName);

            var methodVisible = new Dictionary<MethodDefinitionHandle, bool>();
            foreach (var methodHandle in type.GetMethods())
            {
                var method = reader.GetMethodDefinition(methodHandle);
                var isVisible = typeVisible && IsVisible(method.Attributes & MethodAttributes.MemberAccessMask);
                methodVisible[methodHandle] = isVisible;

                var name = reader.GetString(method.Name);
                var signature = method.DecodeSignature(types, null);
                var id = new StringBuilder("M:").Append(typeName).Append('.').Append(EncodeName(name));
                if (signature.GenericParameterCount > 0)
                {
                    id.Append("``").Append(signature.GenericParameterCount);
                }

                AppendParameters(id, signature.ParameterTypes);
                if (name == "op_Implicit" || name == "op_Explicit")
                {
                    id.Append('~').Append(signature.ReturnType);
                }

                (isVisible ? visible : hidden).Add(id.ToString());
            }

            foreach (var propertyHandle in type.GetProperties())
            {
                var property = reader.GetPropertyDefinition(propertyHandle);
                var accessors = property.GetAccessors();
                var isVisible = IsAnyVisible(methodVisible, accessors.Getter, accessors.Setter);
                var id = new StringBuilder("P:").Append(typeName).Append('.').Append(EncodeName(reader.GetString(property.Name)));
                AppendParameters(id, property.DecodeSignature(types, null).ParameterTypes);
                (isVisible ? visible : hidden).Add(id.ToString());
            }

            foreach (var eventHandle in type.GetEvents())
            {
                var @event = reader.GetEventDefinition(eventHandle);
                var accessors = @event.GetAccessors();
                var isVisible = IsAnyVisible(methodVisible, accessors.Adder, accessors.Remover);
                (isVisible ? visible : hidden).Add("E:" + typeName + "." + EncodeName(reader.GetString(@event.Name)));
            }

            foreach (var fieldHandle in type.GetFields())
            {
                var field = reader.GetFieldDefinition(fieldHandle);
                var isVisible = typeVisible && IsVisible(field.Attributes & FieldAttributes.FieldAccessMask);
                (isVisible ? visible : hidden).Add("F:" + typeName + "." + EncodeName(reader.GetString(field.Name)));
            }
        }
    }

    private static bool IsVisible(MetadataReader reader, TypeDefinition type)
    {
        switch (type.Attributes & TypeAttributes.VisibilityMask)
        {
            case TypeAttributes.Public:
                return true;
            case TypeAttributes.NestedPublic:
            case TypeAttributes.NestedFamily:
            case TypeAttributes.NestedFamORAssem:
                return IsVisible(reader, reader.GetTypeDefinition(type.GetDeclaringType()));
            default:
                return false;
        }
    }

    // public, protected and protected internal are visible from other assemblies; internal, private and private
    // protected are not. (Method and field access masks share their values.)
    private static bool IsVisible(MethodAttributes access) =>
        access == MethodAttributes.Public || access == MethodAttributes.Family || access == MethodAttributes.FamORAssem;

    private static bool IsVisible(FieldAttributes access) =>
        access == FieldAttributes.Public || access == FieldAttributes.Family || access == FieldAttributes.FamORAssem;

    private static bool IsAnyVisible(Dictionary<MethodDefinitionHandle, bool> methodVisible, MethodDefinitionHandle first, MethodDefinitionHandle second)
    {
        bool value;
        return (!first.IsNil && methodVisible.TryGetValue(first, out value) && value)
            || (!second.IsNil && methodVisible.TryGetValue(second, out value) && value);
    }

    private static void AppendParameters(StringBuilder id, ImmutableArray<string> parameters)
    {
        if (parameters.Length > 0)
        {
            id.Append('(').Append(string.Join(",", parameters)).Append(')');
        }
    }

    // Constructors are #ctor/#cctor; the dots of an explicit interface implementation's name become '#', and the
    // generic arguments in it use braces, as in every other ID.
    internal static string EncodeName(string name) =>
        name.Replace('.', '#').Replace('<', '{').Replace('>', '}');
}

/// <summary>Type names as documentation IDs write them, decoded from signatures.</summary>
internal sealed class SignatureTypeNames : ISignatureTypeProvider<string, object>
{
    public string GetPrimitiveType(PrimitiveTypeCode typeCode)
    {
        switch (typeCode)
        {
            case PrimitiveTypeCode.Boolean: return "System.Boolean";
            case PrimitiveTypeCode.Byte: return "System.Byte";
            case PrimitiveTypeCode.SByte: return "System.SByte";
            case PrimitiveTypeCode.Char: return "System.Char";
            case PrimitiveTypeCode.Int16: return "System.Int16";
            case PrimitiveTypeCode.UInt16: return "System.UInt16";
            case PrimitiveTypeCode.Int32: return "System.Int32";
            case PrimitiveTypeCode.UInt32: return "System.UInt32";
            case PrimitiveTypeCode.Int64: return "System.Int64";
            case PrimitiveTypeCode.UInt64: return "System.UInt64";
            case PrimitiveTypeCode.Single: return "System.Single";
            case PrimitiveTypeCode.Double: return "System.Double";
            case PrimitiveTypeCode.IntPtr: return "System.IntPtr";
            case PrimitiveTypeCode.UIntPtr: return "System.UIntPtr";
            case PrimitiveTypeCode.Object: return "System.Object";
            case PrimitiveTypeCode.String: return "System.String";
            case PrimitiveTypeCode.TypedReference: return "System.TypedReference";
            case PrimitiveTypeCode.Void: return "System.Void";
            default: throw new BadImageFormatException("Unexpected primitive type " + typeCode);
        }
    }

    // Namespace.Outer`1.Inner: nested types joined by '.', each keeping its own generic arity (`n) until instantiated.
    public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind)
    {
        var type = reader.GetTypeDefinition(handle);
        var name = reader.GetString(type.Name);
        var declaring = type.GetDeclaringType();
        if (!declaring.IsNil)
        {
            return GetTypeFromDefinition(reader, declaring, 0) + "." + name;
        }

        var ns = reader.GetString(type.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }

    public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind)
    {
        var type = reader.GetTypeReference(handle);
        var name = reader.GetString(type.Name);
        if (type.ResolutionScope.Kind == HandleKind.TypeReference)
        {
            return GetTypeFromReference(reader, (TypeReferenceHandle)type.ResolutionScope, 0) + "." + name;
        }

        var ns = reader.GetString(type.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }

    public string GetTypeFromSpecification(MetadataReader reader, object genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
        reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);

    // Outer`1.Inner`1 with (A, B) is Outer{A}.Inner{B}: the arguments are handed out to the nesting levels in order.
    public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments)
    {
        var segments = genericType.Split('.');
        var next = 0;
        for (var i = 0; i < segments.Length; i++)
        {
            var tick = segments[i].IndexOf('`');
            if (tick < 0)
            {
                continue;
            }

            var arity = int.Parse(segments[i].Substring(tick + 1), System.Globalization.CultureInfo.InvariantCulture);
            segments[i] = segments[i].Substring(0, tick) + "{" + string.Join(",", typeArguments.Skip(next).Take(arity)) + "}";
            next += arity;
        }

        return string.Join(".", segments);
    }

    public string GetSZArrayType(string elementType) => elementType + "[]";

    // A multi-dimensional array lists lower bound and size per dimension; C# arrays have neither: [0:,0:].
    public string GetArrayType(string elementType, ArrayShape shape)
    {
        var dimensions = new string[shape.Rank];
        for (var i = 0; i < shape.Rank; i++)
        {
            var lower = i < shape.LowerBounds.Length ? shape.LowerBounds[i] : 0;
            var size = i < shape.Sizes.Length ? shape.Sizes[i].ToString(System.Globalization.CultureInfo.InvariantCulture) : "";
            dimensions[i] = lower.ToString(System.Globalization.CultureInfo.InvariantCulture) + ":" + size;
        }

        return elementType + "[" + string.Join(",", dimensions) + "]";
    }

    public string GetByReferenceType(string elementType) => elementType + "@";

    public string GetPointerType(string elementType) => elementType + "*";

    public string GetPinnedType(string elementType) => elementType;

    // Custom modifiers (in, ref readonly, volatile, init) are not part of an ID.
    public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;

    public string GetGenericTypeParameter(object genericContext, int index) => "`" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public string GetGenericMethodParameter(object genericContext, int index) => "``" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    // The compiler writes a function pointer type as nothing at all: M(delegate*<int, void>) is M().
    public string GetFunctionPointerType(MethodSignature<string> signature) => "";
}
