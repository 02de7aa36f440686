using System.Text;

namespace ResilientQueue.Docs.Tests;

/// <summary>
/// One <c>```csharp</c> block of a Markdown file, with the hidden prelude that may precede it: an HTML comment
/// <c>&lt;!-- compile-prelude: … --&gt;</c> on the lines right above the fence (invisible on a rendered page) holding
/// the usings and declarations a fragment needs to compile, e.g. <c>IJobQueue queue = null!;</c>.
/// </summary>
public sealed record MarkdownSnippet(string File, int Line, string Code, string Prelude)
{
    private const string PreludeStart = "<!-- compile-prelude:";

    /// <summary>The repository root (holding ResilientQueue.sln).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>The Markdown files users read: README.md, docs/, and each package's and sample's README.</summary>
    public static IEnumerable<string> DocumentationFiles()
    {
        yield return Path.Combine(RepositoryRoot, "README.md");
        foreach (string folder in new[] { "docs", "src", "samples" })
        {
            string path = Path.Combine(RepositoryRoot, folder);
            if (!Directory.Exists(path))
            {
                continue;
            }

            var options = new EnumerationOptions { RecurseSubdirectories = folder != "docs", MaxRecursionDepth = 1 };
            foreach (string file in Directory.EnumerateFiles(path, folder == "docs" ? "*.md" : "README.md", options).Order(StringComparer.Ordinal))
            {
                yield return file;
            }
        }
    }

    /// <summary>Every C# block of every documentation file.</summary>
    public static IEnumerable<MarkdownSnippet> All() => DocumentationFiles().SelectMany(Read);

    /// <summary>The C# blocks of one file, in order.</summary>
    public static IEnumerable<MarkdownSnippet> Read(string file)
    {
        string[] lines = System.IO.File.ReadAllLines(file);
        string relative = Path.GetRelativePath(RepositoryRoot, file).Replace('\\', '/');
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim() != "```csharp")
            {
                continue;
            }

            int start = i + 1;
            int end = start;
            while (end < lines.Length && lines[end].Trim() != "```")
            {
                end++;
            }

            if (end == lines.Length)
            {
                throw new InvalidOperationException($"{relative}:{i + 1}: a ```csharp block is not closed.");
            }

            yield return new MarkdownSnippet(relative, i + 1, string.Join('\n', lines[start..end]), PreludeAbove(lines, i));
            i = end;
        }
    }

    public override string ToString() => $"{File}:{Line}";

    private static string PreludeAbove(string[] lines, int fence)
    {
        int last = fence - 1;
        if (last < 0 || !lines[last].TrimEnd().EndsWith("-->", StringComparison.Ordinal))
        {
            return string.Empty;
        }

        int first = last;
        while (first >= 0 && !lines[first].TrimStart().StartsWith("<!--", StringComparison.Ordinal))
        {
            first--;
        }

        if (first < 0 || !lines[first].TrimStart().StartsWith(PreludeStart, StringComparison.Ordinal))
        {
            return string.Empty;
        }

        var text = new StringBuilder(string.Join('\n', lines[first..(last + 1)]).Trim());
        text.Remove(0, PreludeStart.Length);
        text.Length -= "-->".Length;
        return text.ToString().Trim();
    }

    private static string FindRoot()
    {
        // Written by the project file at build time, so the tests find the sources wherever the build output goes.
        string? root = typeof(MarkdownSnippet).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "RepositoryRoot")?.Value;
        return root is not null && System.IO.File.Exists(Path.Combine(root, "ResilientQueue.sln"))
            ? Path.GetFullPath(root)
            : throw new InvalidOperationException($"The repository root '{root}' recorded at build time holds no ResilientQueue.sln.");
    }
}
