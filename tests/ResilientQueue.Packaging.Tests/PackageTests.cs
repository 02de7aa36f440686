using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using ResilientQueue.Packaging.Tests.Infrastructure;

namespace ResilientQueue.Packaging.Tests;

/// <summary>What a NuGet user gets from <c>dotnet pack</c> of every package: id, version, dependencies, metadata, docs, symbols.</summary>
[Collection(PackagesCollection.Name)]
public sealed partial class PackageTests(PackedPackages packed)
{
    private const string Core = "ResilientQueue";
    private const string Redis = "ResilientQueue.Redis";
    private const string Cli = "ResilientQueue.Cli";
    private const string AspNetCore = "ResilientQueue.AspNetCore";

    public static TheoryData<string> Packages => new(PackedPackages.Projects);

    public static TheoryData<string> Libraries => new(Core, Redis, AspNetCore);

    [Fact]
    public void Pack_OfEveryPackage_IsWarningFree()
    {
        foreach ((string project, string log) in packed.Logs)
        {
            Dotnet.Warnings(log).Should().BeEmpty($"dotnet pack of {project} must stay warning-free");
        }
    }

    [Fact]
    public void Version_OfEveryPackage_IsTheOneMinVerTakesFromGit()
    {
        string[] versions = PackedPackages.Projects.Select(p => packed.Nupkg(p).Version).Distinct().ToArray();

        versions.Should().ContainSingle("the packages are versioned together");
        string version = versions[0];
        if (packed.ExpectedVersions.Count > 0)
        {
            version.Should().BeOneOf(packed.ExpectedVersions, "without a version tag MinVer gives 0.2.0-alpha.0.<commits since the root>");
        }
        else
        {
            version.Should().MatchRegex(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$", "a version tag gives a SemVer version");
        }

        string informational = FileVersionInfo.GetVersionInfo(Path.Combine(packed.BinPath(Core), "ResilientQueue.dll")).ProductVersion!;
        informational.Should().StartWith(version, "the assembly's informational version is the package version");
        if (packed.Commits.Count > 0)
        {
            informational.Should().BeOneOf(packed.Commits.Select(c => $"{version}+{c}"));
        }
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public void Metadata_OfEveryPackage_HasLicenseReadmeProjectRepositoryAndTags(string id)
    {
        Package package = packed.Nupkg(id);

        package.Id.Should().Be(id);
        package.Value("authors").Should().NotBeNullOrWhiteSpace();
        package.Value("description").Should().NotBeNullOrWhiteSpace();
        XElement license = package.Element("license")!;
        license.Should().NotBeNull();
        ((string?)license.Attribute("type")).Should().Be("expression");
        license.Value.Should().Be("MIT");
        package.Value("projectUrl").Should().Be(Repository.CanonicalUrl);
        package.Value("tags").Split(' ').Should().Contain(["queue", "redis", "dead-letter"]);
        package.Value("readme").Should().Be("README.md");
        package.Files.Should().Contain("README.md");
        package.Text("README.md").Should().StartWith("# ", "each package has its own README");

        XElement repository = package.Element("repository")!;
        repository.Should().NotBeNull("the package page links to the source");
        ((string?)repository.Attribute("type")).Should().Be("git");
        ((string?)repository.Attribute("url")).Should().Be(Repository.CanonicalUrl);
        if (packed.Commits.Count > 0)
        {
            ((string?)repository.Attribute("commit")).Should().BeOneOf(packed.Commits);
        }
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public void Readme_OfEveryPackage_LinksOnlyAbsolutely_ToDocsThatExist(string id)
    {
        string readme = packed.Nupkg(id).Text("README.md");
        string[] targets = MarkdownLink().Matches(readme).Select(m => m.Groups["target"].Value).ToArray();

        targets.Should().NotBeEmpty();
        targets.Should().OnlyContain(t => t.StartsWith("https://", StringComparison.Ordinal), "relative links break on a package page");
        string blob = Repository.CanonicalUrl + "/blob/main/";
        foreach (string target in targets.Where(t => t.StartsWith(blob, StringComparison.Ordinal)))
        {
            File.Exists(Repository.PathOf(target[blob.Length..])).Should().BeTrue($"{id}'s README links to {target}");
        }
    }

    [Fact]
    public void Dependencies_OfTheCore_AreFloors_ThatDoNotForceTheNewestPatch()
    {
        IReadOnlyDictionary<string, string> dependencies = packed.Nupkg(Core).Dependencies();

        dependencies.Should().Contain(new Dictionary<string, string>
        {
            ["Microsoft.Extensions.DependencyInjection.Abstractions"] = "[10.0.0, )",
            ["Microsoft.Extensions.Diagnostics.HealthChecks"] = "[10.0.0, )",
            ["Microsoft.Extensions.Hosting.Abstractions"] = "[10.0.0, )",
            ["Microsoft.Extensions.Logging.Abstractions"] = "[10.0.0, )",
            ["Microsoft.Extensions.Options"] = "[10.0.0, )",
            ["System.Threading.RateLimiting"] = "[10.0.0, )",
        });
        dependencies.Where(d => d.Key.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal))
            .Should().OnlyContain(d => d.Value == "[10.0.0, )");
        dependencies.Keys.Should().NotContain(k => k.Contains("Redis", StringComparison.Ordinal), "the core never references Redis");
        dependencies.Keys.Should().NotContain(["MinVer", "Microsoft.CodeAnalysis.PublicApiAnalyzers", "Microsoft.CodeAnalysis.BannedApiAnalyzers"], "build tools are private");
    }

    [Fact]
    public void Dependencies_OfRedis_TakeTheCoreFromItsVersion_AndStackExchangeRedisFrom2_13_23()
    {
        Package redis = packed.Nupkg(Redis);
        IReadOnlyDictionary<string, string> dependencies = redis.Dependencies();

        dependencies.Should().Contain(new Dictionary<string, string>
        {
            [Core] = $"[{redis.Version}, )", // public API only (no InternalsVisibleTo): a floor, not an exact pin
            ["StackExchange.Redis"] = "[2.13.23, )",
            ["System.IO.Hashing"] = "[10.0.2, )",
            ["Microsoft.Extensions.DependencyInjection.Abstractions"] = "[10.0.0, )",
            ["Microsoft.Extensions.Logging.Abstractions"] = "[10.0.0, )",
            ["Microsoft.Extensions.Options"] = "[10.0.0, )",
        });
        dependencies.Where(d => d.Key.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal))
            .Should().OnlyContain(d => d.Value == "[10.0.0, )");
    }

    [Fact]
    public void Dependencies_OfTheDashboard_AreTheCoreFromItsVersion_AndASPNETCoreItself()
    {
        Package dashboard = packed.Nupkg(AspNetCore);

        dashboard.Dependencies().Should().Equal(new Dictionary<string, string> { [Core] = $"[{dashboard.Version}, )" }, "its only other dependency is the shared framework");
        dashboard.Element("frameworkReferences")!.Descendants().Where(e => e.Name.LocalName == "frameworkReference").Select(e => (string?)e.Attribute("name")).Should().Equal("Microsoft.AspNetCore.App");
    }

    [Theory]
    [MemberData(nameof(Libraries))]
    public void XmlDocs_OfEveryLibrary_DocumentThePublicSurface_AndNothingInternal(string id)
    {
        Package package = packed.Nupkg(id);
        string[] kept = XDocument.Parse(package.Text($"lib/net10.0/{id}.xml")).Descendants("member")
            .Select(m => (string)m.Attribute("name")!).ToArray();
        string[] removed = File.ReadAllLines(Path.Combine(packed.ObjPath(id), id + ".internal-docs.txt"));
        string assembly = package.Extract($"lib/net10.0/{id}.dll", Path.Combine(packed.Root, "extracted", id));
        string[] probe = id == AspNetCore ? [packed.BinPath(Cli), packed.BinPath(id), AspNetCoreFramework()] : [packed.BinPath(Cli), packed.BinPath(id)];
        ReflectedDocumentationIds ids = ReflectedDocumentationIds.Of(assembly, probe);

        kept.Should().NotBeEmpty();
        kept.Should().OnlyContain(k => ids.Visible.Contains(k), "the package's XML docs hold no internal or private member");
        removed.Should().OnlyContain(r => ids.Hidden.Contains(r) && !ids.Visible.Contains(r), "only docs of members invisible outside the assembly are removed");
        ids.VisibleTypes.Should().BeSubsetOf(kept, "every public type keeps its docs");
        if (id == Core)
        {
            removed.Should().NotBeEmpty("the core documents internal members, so the filter must have had work");
        }
    }

    /// <summary>
    /// The ASP.NET Core shared framework beside the runtime the tests run on: the dashboard's dependencies, which its
    /// package references as a framework, not as files.
    /// </summary>
    private static string AspNetCoreFramework()
    {
        string runtime = Path.TrimEndingDirectorySeparator(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory()); // shared/Microsoft.NETCore.App/<version>
        string frameworks = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(runtime))!, "Microsoft.AspNetCore.App");
        string same = Path.Combine(frameworks, Path.GetFileName(runtime));
        return Directory.Exists(same) ? same : Directory.GetDirectories(frameworks, $"{Environment.Version.Major}.*").Order(StringComparer.Ordinal).Last();
    }

    [Theory]
    [MemberData(nameof(Libraries))]
    public void Symbols_OfEveryLibrary_AreASnupkg_WithADeterministicPortablePdb_AndSourceLink(string id)
    {
        string? symbols = packed.SymbolsPath(id);
        symbols.Should().NotBeNull($"{id} ships a .snupkg beside the .nupkg");
        byte[] pdb = Package.Open(symbols!).File($"lib/net10.0/{id}.pdb");
        byte[] dll = packed.Nupkg(id).File($"lib/net10.0/{id}.dll");

        PortablePdb.HasEmbeddedPdb(dll).Should().BeFalse("the PDB is in the symbol package, not in the assembly");
        AssertDeterministic(id, dll, pdb);
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public void Nuspec_OfEveryPackage_HoldsNoBuildMachinePath(string id)
    {
        string nuspec = packed.Nupkg(id).NuspecText;

        nuspec.Should().NotContain(Repository.Root.TrimEnd('/')).And.NotContain(packed.Root);
    }

    [Fact]
    public void Tool_IsADotnetToolPackage_ForTheCommandResq_WithItsDependenciesInside()
    {
        Package tool = packed.Nupkg(Cli);
        const string Tools = "tools/net10.0/any/";

        tool.Element("packageTypes")!.Elements().Select(e => (string?)e.Attribute("name")).Should().Equal("DotnetTool");
        XElement command = XDocument.Parse(tool.Text(Tools + "DotnetToolSettings.xml")).Descendants("Command").Single();
        ((string?)command.Attribute("Name")).Should().Be("resq");
        ((string?)command.Attribute("EntryPoint")).Should().Be("resq.dll");
        tool.Files.Should().Contain(
            new[] { "resq.dll", "ResilientQueue.dll", "ResilientQueue.Redis.dll", "StackExchange.Redis.dll", "System.CommandLine.dll", "Spectre.Console.dll" }.Select(f => Tools + f),
            "a tool package carries its dependencies inside");
        tool.Dependencies().Should().BeEmpty("a tool package has no NuGet dependencies");
        tool.Files.Where(f => f.StartsWith(Tools, StringComparison.Ordinal) && f.EndsWith(".xml", StringComparison.Ordinal)).Should().Equal([Tools + "DotnetToolSettings.xml"], "nobody compiles against a tool: no XML docs");
        packed.SymbolsPath(Cli).Should().BeNull("the tool carries its PDBs inside");

        string core = tool.Extract(Tools + "ResilientQueue.dll", Path.Combine(packed.Root, "extracted", Cli));
        FileVersionInfo.GetVersionInfo(core).ProductVersion.Should().StartWith(tool.Version + "+", "the tool bundles the core of the same build");
        AssertDeterministic("resq", tool.File(Tools + "resq.dll"), tool.File(Tools + "resq.pdb"));
    }

    private void AssertDeterministic(string name, byte[] dll, byte[] pdb)
    {
        PortablePdb.RecordedPdbPath(dll).Should().StartWith("/_", $"{name}.dll records its PDB under a mapped path");
        IReadOnlyList<string> documents = PortablePdb.Documents(pdb);
        documents.Should().NotBeEmpty();
        documents.Should().OnlyContain(d => d.StartsWith("/_", StringComparison.Ordinal), $"{name}.pdb has /_/-mapped paths, not this machine's");
        foreach (byte[] image in new[] { dll, pdb })
        {
            foreach (string path in new[] { Repository.Root.TrimEnd('/'), packed.Root })
            {
                Contains(image, Encoding.UTF8.GetBytes(path)).Should().BeFalse($"{name} holds no build-machine path ({path})");
                Contains(image, Encoding.Unicode.GetBytes(path)).Should().BeFalse($"{name} holds no build-machine path ({path})");
            }
        }

        string? sourceLink = PortablePdb.SourceLink(pdb);
        sourceLink.Should().NotBeNull($"{name}.pdb maps its sources to the repository");
        if (packed.Commits.Count > 0)
        {
            packed.Commits.Select(c => $"{{\"documents\":{{\"/_/*\":\"https://raw.githubusercontent.com/resilientqueue/resilientqueue/{c}/*\"}}}}")
                .Should().Contain(sourceLink, $"{name}.pdb maps /_/ to the built commit on GitHub");
        }
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)\)|<(?<target>https?://[^>]+)>")]
    private static partial Regex MarkdownLink();
}
