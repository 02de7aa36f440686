using System.Text.Json;
using ResilientQueue.Errors;

namespace ResilientQueue.Tests.Errors;

public sealed class JobErrorTests
{
    [Fact]
    public void FromException_ReadsTypeNameColonMessage()
    {
        JobError error = JobError.FromException(new JsonException("'n' is an invalid start of a value."), ErrorCategory.Validation);

        error.ToString().Should().Be("JsonException: 'n' is an invalid start of a value.");
        error.TypeName.Should().Be("JsonException");
        error.Category.Should().Be(ErrorCategory.Validation);
    }

    [Fact]
    public void LongMessages_AreCut_SoAStoredJobStaysBounded()
    {
        var error = new JobError("E", new string('x', 10_000), ErrorCategory.Unknown);

        error.Message.Length.Should().Be(JobError.MaxMessageLength);
        error.Message.Should().EndWith("…");
    }

    [Fact]
    public void ThrowIfLeaseLost_ThrowsOnlyForLeaseLost_NamingTheJob()
    {
        var lease = new JobLease("job-1", "42", DateTimeOffset.UnixEpoch, 1, 3);
        FluentActions.Invoking(() => LeaseResult.Succeeded.ThrowIfLeaseLost(lease)).Should().NotThrow();
        FluentActions.Invoking(() => LeaseResult.LeaseLost.ThrowIfLeaseLost(lease))
            .Should().Throw<LeaseLostException>().Where(e => e.JobId == "job-1" && e.Token == "42" && e.Message.Contains("job-1", StringComparison.Ordinal));
    }
}

public sealed class GetRequiredJobTests
{
    [Fact]
    public async Task GetRequiredJob_OfAMissingJob_ThrowsJobNotFound_NamingQueueAndId()
    {
        var queue = new ResilientQueue.InMemory.InMemoryJobQueue("lookups");
        string id = (await queue.EnqueueAsync(new byte[] { 1 })).JobId;

        (await queue.GetRequiredJobAsync(id)).Id.Should().Be(id);
        (await FluentActions.Awaiting(() => queue.GetRequiredJobAsync("nope").AsTask()).Should().ThrowAsync<JobNotFoundException>())
            .Which.Should().Match<JobNotFoundException>(e => e.JobId == "nope" && e.QueueName == "lookups" && e.Message.Contains("nope", StringComparison.Ordinal));
    }
}
