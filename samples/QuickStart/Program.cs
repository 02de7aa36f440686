// Quick start: the job life cycle on the embedded in-memory queue.
// A flaky job is retried with backoff, a malformed job is dead-lettered at once, a job that always fails
// is dead-lettered after its attempts, and one dead letter is requeued. Runs in about a second.
using System.Text.Json;
using ResilientQueue;
using ResilientQueue.Leases;
using ResilientQueue.DeadLetter;
using ResilientQueue.Errors;
using ResilientQueue.InMemory;
using ResilientQueue.Recovery;

var queue = new InMemoryJobQueue("quickstart", new JobQueueOptions { DefaultMaxAttempts = 3 });
var backoff = new BackoffPolicy(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(200));

await queue.EnqueueObjectAsync(new Page("https://example.org/ok"));
await queue.EnqueueObjectAsync(new Page("https://example.org/flaky"));
await queue.EnqueueObjectAsync(new Page("https://example.org/broken"));
await queue.EnqueueAsync("{not json"u8.ToArray());

int flakyCalls = 0;
using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10)); // the sample always ends
while (!stop.IsCancellationRequested)
{
    QueueStatus status = await queue.GetStatusAsync(stop.Token);
    if (status.Ready + status.Delayed + status.Active == 0)
    {
        break;
    }

    foreach (LeasedJob leased in await queue.FetchAsync(10, TimeSpan.FromSeconds(30), stop.Token))
    {
        try
        {
            Page page = leased.Job.GetPayload<Page>();
            if (page.Url.EndsWith("/flaky", StringComparison.Ordinal) && ++flakyCalls < 2)
            {
                throw new HttpRequestException("503 Service Unavailable");
            }

            if (page.Url.EndsWith("/broken", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("parser crashed");
            }

            await queue.AckAsync(leased.Lease, stop.Token);
            Console.WriteLine($"done     {page.Url} (attempt {leased.Job.Attempts})");
        }
        catch (JsonException ex)
        {
            await queue.FailAsync(leased.Lease, JobError.FromException(ex, ErrorCategory.Validation), RecoveryDecision.DeadLetter("malformed payload"), stop.Token);
            Console.WriteLine($"poison   job {leased.Job.Id}: {ex.GetType().Name}");
        }
        catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException)
        {
            TimeSpan delay = backoff.GetDelay(leased.Job.Attempts);
            await queue.FailAsync(leased.Lease, JobError.FromException(ex, ErrorCategory.Transient), RecoveryDecision.Retry(delay), stop.Token);
            string next = leased.Job.Attempts < leased.Job.MaxAttempts ? $"retry in {delay.TotalMilliseconds:0} ms" : "attempts exhausted: dead-lettered";
            Console.WriteLine($"failed   {leased.Job.Id} attempt {leased.Job.Attempts}/{leased.Job.MaxAttempts}: {ex.Message}; {next}");
        }
    }

    await queue.WaitForJobsAsync(TimeSpan.FromMilliseconds(100), stop.Token);
}

DeadLetterPage dead = await queue.DeadLetters.ListAsync();
foreach (DeadLetterEntry entry in dead.Entries)
{
    Console.WriteLine($"dead     {entry.Job.Id} [{entry.Category}] {entry.Reason}");
}

// After the parser is fixed, an operator puts the exhausted job back with all its attempts.
string requeue = dead.Entries.First(e => e.Category == ErrorCategory.Transient).Job.Id;
Console.WriteLine($"requeue  {requeue}: {await queue.DeadLetters.RequeueAsync(requeue, resetAttempts: true)}");
Console.WriteLine($"status   {await queue.GetStatusAsync()}");

internal sealed record Page(string Url);
