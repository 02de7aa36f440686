using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace ResilientQueue.Docs.Tests;

/// <summary>
/// Compiles one documentation snippet as a user's new console project would: C# latest, nullable on, the SDK's
/// implicit usings, and references to the .NET 10 framework, the ResilientQueue packages and what the test project
/// references (the generic host, OpenTelemetry). The snippet's own <c>using</c> directives and those of its prelude
/// are hoisted to the top; the prelude's other lines come before the snippet's, except its type declarations (one
/// per line), which go after them (top-level statements must come before types).
/// </summary>
internal static class SnippetCompiler
{
    private static readonly string[] ImplicitUsings =
        ["System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Threading", "System.Threading.Tasks"];

    private static readonly Lazy<MetadataReference[]> References = new(LoadReferences);

    /// <summary>The error diagnostics of the snippet, each as <c>line: CSxxxx message</c> with the line in the snippet's file; empty when it compiles.</summary>
    public static IReadOnlyList<string> Errors(MarkdownSnippet snippet)
    {
        (string source, int[] lineMap) = Assemble(snippet);
        CSharpParseOptions parse = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest);
        SyntaxTree tree = CSharpSyntaxTree.ParseText(source, parse, path: snippet.File);
        SyntaxTree globals = CSharpSyntaxTree.ParseText(string.Concat(ImplicitUsings.Select(u => $"global using global::{u};\n")), parse);
        bool program = tree.GetCompilationUnitRoot().Members.OfType<GlobalStatementSyntax>().Any();
        var compilation = CSharpCompilation.Create(
            "Snippet",
            [globals, tree],
            References.Value,
            new CSharpCompilationOptions(program ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        return compilation.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error)
            .Select(d => $"{Where(d, lineMap, snippet)}: {d.Id} {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}")
            .ToList();
    }

    /// <summary>The source to compile, and for each of its lines the line of the Markdown file it came from (0 for the prelude).</summary>
    private static (string Source, int[] LineMap) Assemble(MarkdownSnippet snippet)
    {
        var usings = new List<(string Text, int Line)>();
        var body = new List<(string Text, int Line)>();
        var types = new List<(string Text, int Line)>();
        foreach (string line in snippet.Prelude.Split('\n'))
        {
            (IsUsing(line) ? usings : IsTypeDeclaration(line) ? types : body).Add((line, 0));
        }

        string[] code = snippet.Code.Split('\n');
        for (int i = 0; i < code.Length; i++)
        {
            (IsUsing(code[i]) ? usings : body).Add((code[i], snippet.Line + 1 + i));
        }

        var all = usings.Concat(body).Concat(types).ToList();
        var source = new StringBuilder();
        foreach ((string text, _) in all)
        {
            source.Append(text).Append('\n');
        }

        return (source.ToString(), all.Select(l => l.Line).ToArray());
    }

    private static bool IsUsing(string line)
    {
        string t = line.TrimStart();
        return t.StartsWith("using ", StringComparison.Ordinal) && t.TrimEnd().EndsWith(';') && !t.Contains('(', StringComparison.Ordinal) && !t.Contains('=', StringComparison.Ordinal);
    }

    private static bool IsTypeDeclaration(string line) =>
        System.Text.RegularExpressions.Regex.IsMatch(line, @"^\s*((public|internal|sealed|static|abstract|partial|file)\s+)*(class|record|struct|interface|enum)\s");

    private static string Where(Diagnostic d, int[] lineMap, MarkdownSnippet snippet)
    {
        int line = d.Location.GetLineSpan().StartLinePosition.Line;
        return line < lineMap.Length && lineMap[line] > 0 ? $"{snippet.File}:{lineMap[line]}" : $"{snippet.File}:{snippet.Line} (prelude)";
    }

    private static MetadataReference[] LoadReferences()
    {
        // The framework as the test host runs it, then every assembly beside the tests (the packages and their dependencies).
        var paths = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string path in ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            paths.TryAdd(Path.GetFileName(path), path);
        }

        foreach (string path in Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll"))
        {
            paths.TryAdd(Path.GetFileName(path), path);
        }

        return paths.Values
            .Where(p => !Path.GetFileName(p).StartsWith("ResilientQueue.Docs.Tests", StringComparison.OrdinalIgnoreCase) && IsManaged(p))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToArray();
    }

    private static bool IsManaged(string path)
    {
        try
        {
            System.Reflection.AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
