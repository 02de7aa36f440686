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
    /// MinVerDefaultPreReleaseIdentifiers alpha.0) and the height, the number of commits since the root, when it is
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

        int height = HeightAboveRoot(Git("rev-list --parents HEAD")!);
        return height == 0 ? "0.2.0-alpha.0" : $"0.2.0-alpha.0.{height}";
    }

    // MinVer's height without a tag is the shortest walk from HEAD to a root commit along parents (over merges too), not
    // the number of commits: a breadth-first walk of `git rev-list --parents HEAD` (its first line is HEAD).
    private static int HeightAboveRoot(string revList)
    {
        var parents = new Dictionary<string, string[]>(StringComparer.Ordinal);
        string? head = null;
        foreach (string line in revList.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] ids = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            head ??= ids[0];
            parents[ids[0]] = ids[1..];
        }

        var distance = new Dictionary<string, int>(StringComparer.Ordinal) { [head!] = 0 };
        var queue = new Queue<string>([head!]);
        while (queue.TryDequeue(out string? commit))
        {
            if (parents[commit].Length == 0)
            {
                return distance[commit];
            }

            foreach (string parent in parents[commit])
            {
                if (distance.TryAdd(parent, distance[commit] + 1))
                {
                    queue.Enqueue(parent);
                }
            }
        }

        throw new InvalidOperationException("git rev-list --parents HEAD listed no root commit");
    }

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
