using System.Text;
using System.Text.Json;
using ResilientQueue.Serialization;

namespace ResilientQueue.Tests.Serialization;

public sealed class SystemTextJsonJobSerializerTests
{
    private sealed record CrawlRequest(string Url, int Depth);

    [Fact]
    public void RoundTrips_WithWebDefaults()
    {
        byte[] bytes = SystemTextJsonJobSerializer.Default.Serialize(new CrawlRequest("https://example.org", 2));

        Encoding.UTF8.GetString(bytes).Should().Be("""{"url":"https://example.org","depth":2}""");
        SystemTextJsonJobSerializer.Default.Deserialize<CrawlRequest>(bytes).Should().Be(new CrawlRequest("https://example.org", 2));
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("null")]
    [InlineData("[1,2]")]
    [InlineData("{}")]                                    // a missing constructor parameter: not handed over as null
    [InlineData("""{"depth":1}""")]
    [InlineData("""{"url":null,"depth":1}""")]            // null in a non-nullable member
    public void MalformedPayloads_ThrowJsonException(string payload)
    {
        FluentActions.Invoking(() => SystemTextJsonJobSerializer.Default.Deserialize<CrawlRequest>(Encoding.UTF8.GetBytes(payload)))
            .Should().Throw<JsonException>();
    }

    [Fact]
    public void NullableMembers_MayBeNull_AndOptionalParameters_Missing()
    {
        SystemTextJsonJobSerializer.Default.Deserialize<Annotated>(Encoding.UTF8.GetBytes("""{"url":"u","note":null}"""))
            .Should().Be(new Annotated("u", null));
        SystemTextJsonJobSerializer.Default.Deserialize<Annotated>(Encoding.UTF8.GetBytes("""{"url":"u","note":"n"}"""))
            .Should().Be(new Annotated("u", "n", Depth: 1));
    }

    [Fact]
    public void CustomOptions_AreUsedAsGiven()
    {
        var lenient = new SystemTextJsonJobSerializer(new JsonSerializerOptions(JsonSerializerDefaults.Web));

        lenient.Deserialize<CrawlRequest>(Encoding.UTF8.GetBytes("{}")).Should().Be(new CrawlRequest(null!, 0), "strict reads are the default's, not forced on options the app chose");
    }

    private sealed record Annotated(string Url, string? Note, int Depth = 1);

    [Fact]
    public async Task TypedHelpers_EnqueueAndReadBackAPayload()
    {
        var queue = new ResilientQueue.InMemory.InMemoryJobQueue("typed");
        await queue.EnqueueObjectAsync(new CrawlRequest("https://example.org/a", 1));

        Job job = (await queue.FetchAsync(1, TimeSpan.FromSeconds(30)))[0].Job;

        job.GetPayload<CrawlRequest>().Should().Be(new CrawlRequest("https://example.org/a", 1));
    }
}
