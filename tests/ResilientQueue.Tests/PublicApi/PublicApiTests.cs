namespace ResilientQueue.Tests.PublicApi;

/// <summary>
/// Public API snapshots of the shipped packages: any change to an exported surface shows up as a diff of a checked-in
/// <c>PublicAPI.txt</c>. To accept a change, run with <c>UPDATE_PUBLIC_API=1</c> (or copy the received file) and commit.
/// </summary>
public sealed class PublicApiTests
{
    private const string CoreSnapshot = "src/ResilientQueue/PublicAPI.txt";
    private const string RedisSnapshot = "src/ResilientQueue.Redis/PublicAPI.txt";

    [Fact]
    public void CorePackage_PublicApi_MatchesTheCheckedInSnapshot() =>
        PublicApiAssert.MatchesSnapshot(typeof(IJobQueue).Assembly, CoreSnapshot);

    [Fact]
    public void RedisPackage_PublicApi_MatchesTheCheckedInSnapshot() =>
        PublicApiAssert.MatchesSnapshot(typeof(ResilientQueue.Redis.Lists.RedisListJobQueue).Assembly, RedisSnapshot);

    [Fact]
    public void Compare_ReportsAChangedLine_SoTheSnapshotTestCanFail()
    {
        var generated = PublicApiGenerator.Generate(typeof(IJobQueue).Assembly);
        var lines = generated.Split('\n');
        const string TypeLine = "public interface ResilientQueue.IJobQueue";
        var typeIndex = Array.IndexOf(lines, TypeLine);
        typeIndex.Should().BeGreaterThanOrEqualTo(0, "IJobQueue is part of the listing");
        var index = Array.FindIndex(lines, typeIndex + 1, l => l.StartsWith("  ", StringComparison.Ordinal) && l.Contains(" FetchAsync(", StringComparison.Ordinal));
        index.Should().BeGreaterThan(typeIndex, "IJobQueue.FetchAsync is part of the listing");
        lines.Skip(typeIndex + 1).Take(index - typeIndex - 1).Should().OnlyContain(l => l.StartsWith("  ", StringComparison.Ordinal), "FetchAsync is listed under IJobQueue");

        // As if the snapshot still had an older name of the method.
        var original = lines[index];
        var altered = original.Replace(" FetchAsync(", " FetchJobsAsync(", StringComparison.Ordinal);
        lines[index] = altered;
        var snapshot = string.Join('\n', lines);

        PublicApiAssert.Compare(generated, generated).IsMatch.Should().BeTrue();
        var comparison = PublicApiAssert.Compare(snapshot, generated);

        comparison.IsMatch.Should().BeFalse();
        comparison.RemovedLines.Should().Equal(altered);
        comparison.AddedLines.Should().Equal(original);
        comparison.Diff.Should().Contain("- " + altered + "\n")
            .And.Contain("+ " + original + "\n")
            .And.Contain("@@ -" + (index + 1) + " +" + (index + 1) + " @@ " + TypeLine + "\n");
    }

    [Fact]
    public void Compare_IgnoresLineEndingsAndReportsAddedAndRemovedTypes()
    {
        const string Snapshot = "public class A\r\n  public A()\r\npublic class B\r\n  public B()\r\n";
        const string Generated = "public class A\n  public A()\npublic class C\n  public C()\n";

        PublicApiAssert.Compare(Snapshot, Snapshot.ReplaceLineEndings("\n")).IsMatch.Should().BeTrue();
        var comparison = PublicApiAssert.Compare(Snapshot, Generated);

        comparison.IsMatch.Should().BeFalse();
        comparison.RemovedLines.Should().Equal("public class B", "  public B()");
        comparison.AddedLines.Should().Equal("public class C", "  public C()");
        comparison.Diff.Should().Be("@@ -3 +3 @@\n- public class B\n-   public B()\n+ public class C\n+   public C()\n");
    }

    [Fact]
    public void Generate_IsDeterministic() =>
        PublicApiGenerator.Generate(typeof(IJobQueue).Assembly)
            .Should().Be(PublicApiGenerator.Generate(typeof(IJobQueue).Assembly));
}
