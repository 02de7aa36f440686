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
    public void MalformedPayloads_ThrowJsonException(string payload)
    {
        FluentActions.Invoking(() => SystemTextJsonJobSerializer.Default.Deserialize<CrawlRequest>(Encoding.UTF8.GetBytes(payload)))
            .Should().Throw<JsonException>();
    }

    [Fact]
    public async Task TypedHelpers_EnqueueAndReadBackAPayload()
    {
        var queue = new ResilientQueue.InMemory.InMemoryJobQueue("typed");
        await queue.EnqueueObjectAsync(new CrawlRequest("https://example.org/a", 1));

        Job job = (await queue.FetchAsync(1, TimeSpan.FromSeconds(30)))[0].Job;

        job.GetPayload<CrawlRequest>().Should().Be(new CrawlRequest("https://example.org/a", 1));
    }
}
