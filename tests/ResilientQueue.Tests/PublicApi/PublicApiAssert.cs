using System.Reflection;
using System.Text;

namespace ResilientQueue.Tests.PublicApi;

/// <summary>The result of comparing a checked-in public API snapshot with a freshly generated listing.</summary>
/// <param name="IsMatch">Whether the two are the same (line endings aside).</param>
/// <param name="Diff">
/// When they differ, a compact unified-style diff: hunks headed <c>@@ -snapshotLine +generatedLine @@</c> with the
/// enclosing type as context, lines only in the snapshot prefixed <c>"- "</c>, lines only in the generated listing
/// prefixed <c>"+ "</c>; at most <see cref="PublicApiAssert.MaxDiffLines"/> changed lines. Empty when they match.
/// </param>
/// <param name="RemovedLines">Every line only in the snapshot, in order.</param>
/// <param name="AddedLines">Every line only in the generated listing, in order.</param>
public sealed record PublicApiComparison(bool IsMatch, string Diff, IReadOnlyList<string> RemovedLines, IReadOnlyList<string> AddedLines);

/// <summary>
/// Compares an assembly's public API (see <see cref="PublicApiGenerator"/>) with a snapshot checked in next to its
/// project. One line per shipped package:
/// <code>[Fact] public void X_PublicApi_MatchesTheCheckedInSnapshot() =>
///     PublicApiAssert.MatchesSnapshot(typeof(SomeType).Assembly, "src/X/PublicAPI.txt");</code>
/// </summary>
public static class PublicApiAssert
{
    /// <summary>The environment variable that, set to <c>1</c>, makes <see cref="MatchesSnapshot"/> rewrite the snapshot.</summary>
    public const string UpdateVariable = "UPDATE_PUBLIC_API";

    /// <summary>The most changed lines a diff shows.</summary>
    public const int MaxDiffLines = 40;

    /// <summary>The help text of a failure.</summary>
    public const string ChangedMessage =
        "The public API changed. If intended, copy PublicAPI.received.txt over PublicAPI.txt (or run with UPDATE_PUBLIC_API=1) and commit it.";

    // Solution files that mark the repository root, looked for from the test's output directory upwards.
    private static readonly string[] RootMarkers = ["ResilientQueue.sln", "ResilientQueue.slnx"];

    // Beyond this many cells the line diff falls back from an exact LCS to a multiset difference.
    private const long MaxLcsCells = 16_000_000;

    /// <summary>
    /// Asserts that the public API of <paramref name="assembly"/> equals the snapshot at
    /// <paramref name="relativeSnapshotPath"/>. On a difference, writes the generated listing next to the snapshot as
    /// <c>*.received.txt</c> and fails with a diff. With <c>UPDATE_PUBLIC_API=1</c>, overwrites the snapshot and passes.
    /// </summary>
    /// <param name="assembly">The assembly of the package.</param>
    /// <param name="relativeSnapshotPath">The snapshot, relative to the repository root, e.g. <c>src/ResilientQueue/PublicAPI.txt</c>.</param>
    public static void MatchesSnapshot(Assembly assembly, string relativeSnapshotPath)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        ArgumentException.ThrowIfNullOrWhiteSpace(relativeSnapshotPath);

        var generated = PublicApiGenerator.Generate(assembly);
        var snapshotPath = Path.GetFullPath(Path.Combine(FindRepositoryRoot(), relativeSnapshotPath));
        var receivedPath = Path.ChangeExtension(snapshotPath, ".received" + Path.GetExtension(snapshotPath));

        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(snapshotPath)!);
            WriteText(snapshotPath, generated);
            File.Delete(receivedPath);
            return;
        }

        var snapshot = File.Exists(snapshotPath) ? File.ReadAllText(snapshotPath) : string.Empty;
        var comparison = Compare(snapshot, generated);
        if (comparison.IsMatch)
        {
            // A received file left over from an earlier failure is stale now.
            File.Delete(receivedPath);
            return;
        }

        WriteText(receivedPath, generated);
        var missing = File.Exists(snapshotPath) ? string.Empty : $"The snapshot {snapshotPath} does not exist.\n";
        Assert.Fail(
            $"{ChangedMessage}\n{missing}Snapshot: {snapshotPath}\nReceived: {receivedPath}\n" +
            $"{comparison.RemovedLines.Count} line(s) removed, {comparison.AddedLines.Count} line(s) added:\n{comparison.Diff}");
    }

    /// <summary>Compares a snapshot with a generated listing, line by line. Pure: no I/O.</summary>
    /// <param name="snapshot">The checked-in text (the expected listing).</param>
    /// <param name="generated">The generated text (the actual listing).</param>
    /// <returns>Whether they match and, if not, how they differ.</returns>
    public static PublicApiComparison Compare(string snapshot, string generated)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(generated);

        var expected = SplitLines(snapshot);
        var actual = SplitLines(generated);
        var edits = DiffLines(expected, actual);
        var removed = edits.Where(e => e.Op == '-').Select(e => e.Text).ToList();
        var added = edits.Where(e => e.Op == '+').Select(e => e.Text).ToList();
        if (removed.Count == 0 && added.Count == 0)
        {
            return new PublicApiComparison(true, string.Empty, removed, added);
        }

        return new PublicApiComparison(false, FormatDiff(edits, expected, actual), removed, added);
    }

    /// <summary>The directory that contains the solution file, found from <see cref="AppContext.BaseDirectory"/> upwards.</summary>
    /// <returns>The repository root.</returns>
    public static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (RootMarkers.Any(marker => File.Exists(Path.Combine(directory.FullName, marker))))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException(
            $"No directory from {AppContext.BaseDirectory} upwards contains {string.Join(" or ", RootMarkers)}.");
    }

    private static void WriteText(string path, string text) =>
        File.WriteAllText(path, text.ReplaceLineEndings("\n"), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));

    // Tolerates CRLF checkouts; a final newline does not make an empty last line.
    private static string[] SplitLines(string text)
    {
        var normalized = text.ReplaceLineEndings("\n");
        if (normalized.EndsWith('\n'))
        {
            normalized = normalized[..^1];
        }

        return normalized.Length == 0 ? [] : normalized.Split('\n');
    }

    /// <summary>One line of an edit script: <c>' '</c> kept, <c>'-'</c> only in the snapshot, <c>'+'</c> only in the generated text.</summary>
    private readonly record struct Edit(char Op, string Text, int ExpectedIndex, int ActualIndex);

    private static List<Edit> DiffLines(string[] expected, string[] actual)
    {
        var prefix = 0;
        while (prefix < expected.Length && prefix < actual.Length && expected[prefix] == actual[prefix])
        {
            prefix++;
        }

        var suffix = 0;
        while (suffix < expected.Length - prefix && suffix < actual.Length - prefix
            && expected[expected.Length - 1 - suffix] == actual[actual.Length - 1 - suffix])
        {
            suffix++;
        }

        var edits = new List<Edit>();
        for (var i = 0; i < prefix; i++)
        {
            edits.Add(new Edit(' ', expected[i], i, i));
        }

        var n = expected.Length - prefix - suffix;
        var m = actual.Length - prefix - suffix;
        if ((long)(n + 1) * (m + 1) <= MaxLcsCells)
        {
            // lcs[i, j]: length of the longest common subsequence of expected[prefix + i..] and actual[prefix + j..].
            var lcs = new int[n + 1, m + 1];
            for (var i = n - 1; i >= 0; i--)
            {
                for (var j = m - 1; j >= 0; j--)
                {
                    lcs[i, j] = expected[prefix + i] == actual[prefix + j]
                        ? lcs[i + 1, j + 1] + 1
                        : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
                }
            }

            int a = 0, b = 0;
            while (a < n || b < m)
            {
                if (a < n && b < m && expected[prefix + a] == actual[prefix + b])
                {
                    edits.Add(new Edit(' ', expected[prefix + a], prefix + a, prefix + b));
                    a++;
                    b++;
                }
                else if (b < m && (a == n || lcs[a, b + 1] >= lcs[a + 1, b]))
                {
                    edits.Add(new Edit('+', actual[prefix + b], prefix + a, prefix + b));
                    b++;
                }
                else
                {
                    edits.Add(new Edit('-', expected[prefix + a], prefix + a, prefix + b));
                    a++;
                }
            }

            // Removals before additions within a run of changes reads better; the LCS walk puts additions first.
            ReorderRuns(edits, prefix);
        }
        else
        {
            // Too large for an exact diff: report the multiset difference of the middle parts.
            var remaining = actual.Skip(prefix).Take(m).GroupBy(l => l, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            for (var i = 0; i < n; i++)
            {
                var line = expected[prefix + i];
                if (remaining.TryGetValue(line, out var count) && count > 0)
                {
                    remaining[line] = count - 1;
                }
                else
                {
                    edits.Add(new Edit('-', line, prefix + i, prefix));
                }
            }

            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            var expectedCounts = expected.Skip(prefix).Take(n).GroupBy(l => l, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            for (var j = 0; j < m; j++)
            {
                var line = actual[prefix + j];
                seen[line] = seen.GetValueOrDefault(line) + 1;
                if (seen[line] > expectedCounts.GetValueOrDefault(line))
                {
                    edits.Add(new Edit('+', line, prefix + n, prefix + j));
                }
            }
        }

        for (var i = 0; i < suffix; i++)
        {
            edits.Add(new Edit(' ', expected[expected.Length - suffix + i], expected.Length - suffix + i, actual.Length - suffix + i));
        }

        return edits;
    }

    private static void ReorderRuns(List<Edit> edits, int start)
    {
        var i = start;
        while (i < edits.Count)
        {
            if (edits[i].Op == ' ')
            {
                i++;
                continue;
            }

            var end = i;
            while (end < edits.Count && edits[end].Op != ' ')
            {
                end++;
            }

            var run = edits.GetRange(i, end - i);
            var ordered = run.Where(e => e.Op == '-').Concat(run.Where(e => e.Op == '+')).ToList();
            for (var k = 0; k < ordered.Count; k++)
            {
                edits[i + k] = ordered[k];
            }

            i = end;
        }
    }

    private static string FormatDiff(List<Edit> edits, string[] expected, string[] actual)
    {
        var text = new StringBuilder();
        var shown = 0;
        var total = edits.Count(e => e.Op != ' ');
        var i = 0;
        while (i < edits.Count && shown < MaxDiffLines)
        {
            if (edits[i].Op == ' ')
            {
                i++;
                continue;
            }

            // A hunk: a run of changes, headed by where it starts in each text and the type (unindented line) it is in.
            var end = i;
            while (end < edits.Count && edits[end].Op != ' ')
            {
                end++;
            }

            var run = edits.GetRange(i, end - i);
            var expectedStart = run.Min(e => e.ExpectedIndex);
            var actualStart = run.Min(e => e.ActualIndex);
            var first = run[0];
            var context = EnclosingTypeLine(first.Op == '-' ? expected : actual, first.Op == '-' ? first.ExpectedIndex : first.ActualIndex);
            text.Append("@@ -").Append(expectedStart + 1).Append(" +").Append(actualStart + 1).Append(" @@");
            if (context is not null)
            {
                text.Append(' ').Append(context);
            }

            text.Append('\n');
            while (i < edits.Count && edits[i].Op != ' ' && shown < MaxDiffLines)
            {
                text.Append(edits[i].Op).Append(' ').Append(edits[i].Text).Append('\n');
                shown++;
                i++;
            }
        }

        if (total > shown)
        {
            text.Append("… and ").Append(total - shown).Append(" more changed line(s); see the received file.\n");
        }

        return text.ToString();
    }

    private static string? EnclosingTypeLine(string[] lines, int index)
    {
        // A type line is not indented; a member line is. A changed type line is its own context.
        for (var i = Math.Min(index, lines.Length - 1); i >= 0; i--)
        {
            if (lines[i].Length > 0 && !char.IsWhiteSpace(lines[i][0]))
            {
                return i == index ? null : lines[i];
            }
        }

        return null;
    }
}
