namespace ResilientQueue.Docs.Tests;

/// <summary>Every C# block in the README, docs/ and the package and sample READMEs compiles against the packages.</summary>
public sealed class SnippetTests
{
    public static TheoryData<string> Snippets()
    {
        var data = new TheoryData<string>();
        foreach (MarkdownSnippet snippet in MarkdownSnippet.All())
        {
            data.Add(snippet.ToString());
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Snippets))]
    public void Snippet_Compiles(string where)
    {
        MarkdownSnippet snippet = MarkdownSnippet.All().Single(s => s.ToString() == where);

        IReadOnlyList<string> errors = SnippetCompiler.Errors(snippet);

        errors.Should().BeEmpty($"the C# block at {where} is what users copy; it must compile as shown (with its compile-prelude comment, if any)");
    }

    [Fact]
    public void Documentation_HasSnippets_AndTheReadmeIsAmongThem()
    {
        MarkdownSnippet.All().Should().Contain(s => s.File == "README.md", "the README's quick start is compiled too");
    }

    [Fact]
    public void Compiler_ReportsAnError_ForASnippetThatDoesNotCompile()
    {
        var broken = new MarkdownSnippet("README.md", 1, "using ResilientQueue;\nIJobQueue queue = new NoSuchQueue();", string.Empty);

        SnippetCompiler.Errors(broken).Should().ContainSingle().Which.Should().Contain("CS0246").And.Contain("README.md:3");
    }
}
