using System.Diagnostics;
using System.Reflection;

namespace ResilientQueue.Packaging.Tests.Infrastructure;

/// <summary>The repository these tests were built from, and what git says about it.</summary>
internal static class Repository
{
    public const string CanonicalUrl = "https://github.com/resilientqueue/resilientqueue";

    public static string Root { get; } = Path.GetFullPath(
        typeof(Repository).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!);

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>The commit checked out, or <see langword="null"/> when this is not a git work tree (a source archive).</summary>
    public static string? HeadCommit() => Git("rev-parse HEAD");

    /// <summary>
    /// The version MinVer computes when no version tag (v*) is reachable: 0.2.0-alpha.0 (MinVerMinimumMajorMinor 0.2,
    /// MinVerDefaultPreReleaseIdentifiers alpha.0) and the height, the length of the first-parent chain from the root, when it is
    /// above zero. <see langword="null"/> when a tag is reachable: then the tag decides.
    /// </summary>
    public static string? UntaggedVersion()
    {
        if (Git("rev-parse --is-inside-work-tree") is null)
        {
            return "0.2.0-alpha.0";
        }

        if (Git("describe --tags --abbrev=0 --match v[0-9]*") is not null)
        {
            return null;
        }

        int height = HeightAboveRoot();
        return height == 0 ? "0.2.0-alpha.0" : $"0.2.0-alpha.0.{height}";
    }

    // MinVer's height without a tag: it walks depth first from HEAD, first parents first, and marks each commit the first
    // time it reaches it; the first root it reaches (along the first-parent chain) is the candidate it keeps. So the
    // height is the length of the first-parent chain, not the number of commits nor the shortest walk over merges
    // (MinVer.Lib/Versioner.cs, GetCandidates).
    private static int HeightAboveRoot() =>
        int.Parse(Git("rev-list --first-parent --count HEAD")!, System.Globalization.CultureInfo.InvariantCulture) - 1;

    private static string? Git(string arguments)
    {
        var startInfo = new ProcessStartInfo("git", arguments)
        {
            WorkingDirectory = Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        try
        {
            using Process process = Process.Start(startInfo)!;
            string output = process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? output.Trim() : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no git on this machine
        }
    }
}
