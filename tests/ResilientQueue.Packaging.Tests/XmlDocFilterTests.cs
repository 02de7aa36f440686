using System.Xml.Linq;
using ResilientQueue.Packaging.Tests.Infrastructure;

namespace ResilientQueue.Packaging.Tests;

/// <summary>
/// The XML doc filter (eng/XmlDocs.targets) on Fixtures/XmlDocShapes, a library with one of each shape a documentation
/// ID takes, each both visible and not: the entries it keeps and removes, exactly.
/// </summary>
public sealed class XmlDocFilterTests(XmlDocFilterTests.BuiltShapes shapes) : IClassFixture<XmlDocFilterTests.BuiltShapes>
{
    private static readonly string[] Visible =
    [
        "T:XmlDocShapes.Outer`1",
        "M:XmlDocShapes.Outer`1.#ctor",
        "F:XmlDocShapes.Outer`1.Value",
        "F:XmlDocShapes.Outer`1.ProtectedField",
        "F:XmlDocShapes.Outer`1.Constant",
        "E:XmlDocShapes.Outer`1.Changed",
        "P:XmlDocShapes.Outer`1.Count",
        "P:XmlDocShapes.Outer`1.Protected",
        "P:XmlDocShapes.Outer`1.Item(System.Int32,System.String)",
        "M:XmlDocShapes.Outer`1.Convert``1(System.Func{`0,``0},``0[],`0[0:,0:],System.Int32[][],System.Int32@,System.String@,System.Int64@,System.Nullable{System.Int32},System.Collections.Generic.List{System.Nullable{System.Int32}}[])",
        "M:XmlDocShapes.Outer`1.Pointers(System.Int32*,System.Void**)",
        "M:XmlDocShapes.Outer`1.OnChanged",
        "M:XmlDocShapes.Outer`1.op_Addition(XmlDocShapes.Outer{`0},XmlDocShapes.Outer{`0})",
        "M:XmlDocShapes.Outer`1.op_Explicit(XmlDocShapes.Outer{`0})~System.Int32",
        "M:XmlDocShapes.Outer`1.op_Implicit(`0)~XmlDocShapes.Outer{`0}",
        "T:XmlDocShapes.Outer`1.Inner`1",
        "M:XmlDocShapes.Outer`1.Inner`1.Take(`0,`1,XmlDocShapes.Outer{`1}.Inner{`0})",
        "T:XmlDocShapes.Outer`1.Inner`1.Deepest",
        "F:XmlDocShapes.Outer`1.Inner`1.Deepest.Field",
        "T:XmlDocShapes.Outer`1.ProtectedNested",
        "M:XmlDocShapes.Outer`1.ProtectedNested.Visible",
        "T:XmlDocShapes.IShape`1",
        "M:XmlDocShapes.IShape`1.Area",
        "P:XmlDocShapes.IShape`1.Sides",
        "T:XmlDocShapes.Square",
        "T:XmlDocShapes.Color",
        "F:XmlDocShapes.Color.Red",
        "T:XmlDocShapes.Handler`1",
        "T:XmlDocShapes.Named",
        "M:XmlDocShapes.Named.#ctor(System.String)",
        "P:XmlDocShapes.Named.Name",
        "T:XmlDocShapes.HiddenImplementation",
    ];

    private static readonly string[] NotVisible =
    [
        "M:XmlDocShapes.Outer`1.#cctor",
        "M:XmlDocShapes.Outer`1.#ctor(`0)",
        "F:XmlDocShapes.Outer`1.HiddenField",
        "F:XmlDocShapes.Outer`1.PrivateProtectedField",
        "E:XmlDocShapes.Outer`1.HiddenChanged",
        "P:XmlDocShapes.Outer`1.Hidden",
        "P:XmlDocShapes.Outer`1.Item(System.Int64)",
        "M:XmlDocShapes.Outer`1.Hide``2(System.Collections.Generic.KeyValuePair{``0,``1})",
        "M:XmlDocShapes.Outer`1.FunctionPointer()",
        "M:XmlDocShapes.Outer`1.PrivateProtected",
        "M:XmlDocShapes.Outer`1.Private",
        "T:XmlDocShapes.Outer`1.PrivateNested",
        "M:XmlDocShapes.Outer`1.PrivateNested.NotVisible",
        "M:XmlDocShapes.Square.XmlDocShapes#IShape{System#Int32}#Area",
        "P:XmlDocShapes.Square.XmlDocShapes#IShape{System#Int32}#Sides",
        "M:XmlDocShapes.Square.System#Collections#Generic#IEnumerable{System#Collections#Generic#KeyValuePair{System#String,System#Int32}}#GetEnumerator",
        "M:XmlDocShapes.Square.System#Collections#IEnumerable#GetEnumerator",
        "T:XmlDocShapes.Hidden",
        "M:XmlDocShapes.Hidden.Method(System.Int32[])",
        "T:XmlDocShapes.Hidden.Nested",
        "T:XmlDocShapes.IHidden`2",
        "M:XmlDocShapes.IHidden`2.Get(`0)",
        "M:XmlDocShapes.HiddenImplementation.XmlDocShapes#IHidden{System#String,System#Int32}#Get(System.String)",
    ];

    [Fact]
    public void Filter_KeepsTheEntriesOfPublicAndProtectedSymbols_InTheCompilersOrder() =>
        shapes.Kept.Should().Equal(Visible);

    [Fact]
    public void Filter_RemovesTheEntriesOfInternalPrivateAndExplicitlyImplementedSymbols() =>
        shapes.Removed.Should().Equal(NotVisible);

    [Fact]
    public void Filter_LeavesTheKeptEntriesAsTheCompilerWroteThem()
    {
        XElement convert = shapes.Document.Descendants("member").Single(m => ((string)m.Attribute("name")!).Contains(".Convert``1(", StringComparison.Ordinal));

        convert.Elements("param").Should().HaveCount(9);
        convert.Element("summary")!.Value.Should().Be("A generic method with every parameter shape.");
        shapes.Document.Root!.Element("assembly")!.Element("name")!.Value.Should().Be("XmlDocShapes");
    }

    [Fact]
    public void ReflectedIds_UsedOnThePackages_ClassifyEveryShapeAsTheFilterDoes()
    {
        ReflectedDocumentationIds ids = ReflectedDocumentationIds.Of(shapes.Assembly);

        Visible.Should().OnlyContain(id => ids.Visible.Contains(id));
        NotVisible.Should().OnlyContain(id => ids.Hidden.Contains(id) && !ids.Visible.Contains(id));
    }

    /// <summary>Fixtures/XmlDocShapes built once, with an artifacts path of its own.</summary>
    public sealed class BuiltShapes : IDisposable
    {
        private readonly string _root = Path.Combine(Path.GetTempPath(), "resilientqueue-xmldocs-" + Guid.NewGuid().ToString("N")[..12]);

        public BuiltShapes()
        {
            Directory.CreateDirectory(_root);
            string artifacts = Path.Combine(_root, "artifacts");
            Dotnet.Run(
                Path.Combine(_root, "build.log"),
                "build", Repository.PathOf("tests/ResilientQueue.Packaging.Tests/Fixtures/XmlDocShapes/XmlDocShapes.csproj"),
                "--artifacts-path", artifacts);

            Assembly = Path.Combine(artifacts, "bin", "XmlDocShapes", "debug", "XmlDocShapes.dll");
            Document = XDocument.Load(Path.ChangeExtension(Assembly, ".xml"));
            Kept = Document.Descendants("member").Select(m => (string)m.Attribute("name")!).ToArray();
            Removed = File.ReadAllLines(Path.Combine(artifacts, "obj", "XmlDocShapes", "debug", "XmlDocShapes.internal-docs.txt"));
        }

        public string Assembly { get; }

        public XDocument Document { get; }

        public IReadOnlyList<string> Kept { get; }

        public IReadOnlyList<string> Removed { get; }

        public void Dispose()
        {
            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (IOException)
            {
                // best effort: a temporary folder
            }
        }
    }
}
