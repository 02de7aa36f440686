namespace ResilientQueue.Packaging.Tests.Infrastructure;

/// <summary>
/// Every package of the repository, packed once per test run exactly as a user would (<c>dotnet pack</c> of each
/// project under src/), into a temporary folder with an artifacts path of its own, so no other build's output is used.
/// </summary>
public sealed class PackedPackages : IDisposable
{
    public static readonly string[] Projects = ["ResilientQueue", "ResilientQueue.Redis", "ResilientQueue.AspNetCore", "ResilientQueue.Cli"];

    /// <summary>The projects the tool's pack builds (it references them): their packs reuse that build.</summary>
    private static readonly string[] BuiltByTheTool = ["ResilientQueue", "ResilientQueue.Redis"];

    private readonly Dictionary<string, string> _logs = new(StringComparer.Ordinal);

    public PackedPackages()
    {
        Root = Path.Combine(Path.GetTempPath(), "resilientqueue-packaging-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Root);
        ArtifactsPath = Path.Combine(Root, "artifacts");
        PackagesPath = Path.Combine(Root, "packages");

        // Read before and after packing: a commit landing meanwhile (a busy work tree) may be either.
        string? commitBefore = Repository.HeadCommit();
        string? versionBefore = Repository.UntaggedVersion();

        // The tool first: its pack restores and builds the core, Redis and the tool (as dotnet pack builds them); those
        // libraries' packs then reuse that build (--no-restore --no-build) instead of checking it again, which halves the
        // time. The dashboard package is not part of the tool, so its pack builds it.
        foreach (string project in Projects.Reverse())
        {
            string[] reuse = BuiltByTheTool.Contains(project) ? ["--no-restore", "--no-build"] : [];
            _logs[project] = Dotnet.Run(
                Path.Combine(Root, project + ".log"),
                ["pack", Repository.PathOf($"src/{project}/{project}.csproj"), "--artifacts-path", ArtifactsPath, "--output", PackagesPath, .. reuse]);
        }

        Commits = new[] { commitBefore, Repository.HeadCommit() }.OfType<string>().Distinct().ToArray();
        ExpectedVersions = new[] { versionBefore, Repository.UntaggedVersion() }.OfType<string>().Distinct().ToArray();
    }

    /// <summary>The temporary folder everything is in (deleted at the end).</summary>
    public string Root { get; }

    public string ArtifactsPath { get; }

    public string PackagesPath { get; }

    /// <summary>The commit the packages were built from (none outside a git work tree; two if one landed while packing).</summary>
    public IReadOnlyList<string> Commits { get; }

    /// <summary>The version MinVer must have given (none when a version tag decides), as <see cref="Commits"/>.</summary>
    public IReadOnlyList<string> ExpectedVersions { get; }

    public IReadOnlyDictionary<string, string> Logs => _logs;

    /// <summary>The output folder of a project's build (the resq tool's holds every dependency).</summary>
    public string BinPath(string project) => Path.Combine(ArtifactsPath, "bin", project, "release");

    public string ObjPath(string project) => Path.Combine(ArtifactsPath, "obj", project, "release");

    public Package Nupkg(string id) => Package.Open(Single(id, ".nupkg"));

    public string? SymbolsPath(string id) =>
        Directory.GetFiles(PackagesPath, id + ".*.snupkg").SingleOrDefault(f => IsOf(f, id, ".snupkg"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a temporary folder
        }
    }

    private string Single(string id, string extension) =>
        Directory.GetFiles(PackagesPath, id + ".*" + extension).Single(f => IsOf(f, id, extension));

    // ResilientQueue.0.2.0-alpha.0.5.nupkg is ResilientQueue's, not ResilientQueue.Redis's: a digit follows the id.
    private static bool IsOf(string file, string id, string extension)
    {
        string name = Path.GetFileName(file);
        return name.EndsWith(extension, StringComparison.Ordinal) && name.Length > id.Length + 1 && char.IsDigit(name[id.Length + 1]);
    }
}

[CollectionDefinition(Name)]
public sealed class PackagesCollection : ICollectionFixture<PackedPackages>
{
    public const string Name = "Packed packages";
}
