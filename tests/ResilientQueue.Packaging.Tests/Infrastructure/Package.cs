using System.IO.Compression;
using System.Xml.Linq;

namespace ResilientQueue.Packaging.Tests.Infrastructure;

/// <summary>A .nupkg (or .snupkg) as NuGet reads it: its nuspec and its files.</summary>
public sealed class Package
{
    private readonly Dictionary<string, byte[]> _files;

    private Package(string path, Dictionary<string, byte[]> files, XElement metadata, string nuspecText)
    {
        Path = path;
        _files = files;
        Metadata = metadata;
        NuspecText = nuspecText;
    }

    public string Path { get; }

    /// <summary>The nuspec's &lt;metadata&gt; element.</summary>
    public XElement Metadata { get; }

    public string NuspecText { get; }

    public IReadOnlyCollection<string> Files => _files.Keys;

    public string Id => Value("id");

    public string Version => Value("version");

    public static Package Open(string path)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using (ZipArchive zip = ZipFile.OpenRead(path))
        {
            foreach (ZipArchiveEntry entry in zip.Entries)
            {
                using var content = new MemoryStream();
                using (Stream stream = entry.Open())
                {
                    stream.CopyTo(content);
                }

                files[entry.FullName] = content.ToArray();
            }
        }

        string nuspecName = files.Keys.Single(f => !f.Contains('/', StringComparison.Ordinal) && f.EndsWith(".nuspec", StringComparison.Ordinal));
        string nuspecText = System.Text.Encoding.UTF8.GetString(files[nuspecName]).TrimStart('\uFEFF');
        XElement metadata = XDocument.Parse(nuspecText).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        return new Package(path, files, metadata, nuspecText);
    }

    public string Value(string element) => Element(element)?.Value ?? string.Empty;

    public XElement? Element(string name) => Metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name);

    public byte[] File(string name) => _files.TryGetValue(name, out byte[]? content)
        ? content
        : throw new FileNotFoundException($"{System.IO.Path.GetFileName(Path)} has no {name}; it has: {string.Join(", ", _files.Keys)}");

    public string Text(string name) => System.Text.Encoding.UTF8.GetString(File(name)).TrimStart('\uFEFF');

    /// <summary>Writes a file of the package to disk (to load an assembly from it).</summary>
    public string Extract(string name, string directory)
    {
        string target = System.IO.Path.Combine(directory, name.Replace('/', System.IO.Path.DirectorySeparatorChar));
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
        System.IO.File.WriteAllBytes(target, File(name));
        return target;
    }

    /// <summary>
    /// The dependencies of the net10.0 group: id → version range in NuGet's interval notation ("1.0" means ">= 1.0",
    /// written [1.0, )).
    /// </summary>
    public IReadOnlyDictionary<string, string> Dependencies()
    {
        XElement? dependencies = Element("dependencies");
        if (dependencies is null)
        {
            return new Dictionary<string, string>();
        }

        dependencies.Elements().Should().OnlyContain(
            g => g.Name.LocalName == "group" && (string?)g.Attribute("targetFramework") == "net10.0",
            "the packages target net10.0 alone");
        return dependencies.Elements().Elements()
            .ToDictionary(d => (string)d.Attribute("id")!, d => Range((string)d.Attribute("version")!), StringComparer.Ordinal);
    }

    private static string Range(string version) =>
        version.StartsWith('[') || version.StartsWith('(') ? version : $"[{version}, )";
}
