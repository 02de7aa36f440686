using Microsoft.Extensions.Hosting;
using ResilientQueue;
using ResilientQueue.DependencyInjection;
using ResilientQueue.Processing;

namespace DashboardSample;

/// <summary>An email to send.</summary>
public sealed record Email(string To, string Subject);

/// <summary>An order to book; a total that is not a number is a poison job.</summary>
public sealed record Order(int Id, string Total);

/// <summary>Takes 50–400 ms; one in ten attempts fails with a transient error and is retried.</summary>
public sealed class EmailHandler : IJobHandler<Email>
{
    /// <inheritdoc />
    public async ValueTask HandleAsync(JobContext<Email> job, CancellationToken ct)
    {
        await Task.Delay(Random.Shared.Next(50, 400), ct);
        if (Random.Shared.Next(10) == 0)
        {
            throw new HttpRequestException($"SMTP relay timed out sending to {job.Payload.To}");
        }
    }
}

/// <summary>Books an order; a total that does not parse fails with a validation error (dead-lettered at once).</summary>
public sealed class OrderHandler : IJobHandler<Order>
{
    /// <inheritdoc />
    public async ValueTask HandleAsync(JobContext<Order> job, CancellationToken ct)
    {
        await Task.Delay(Random.Shared.Next(100, 600), ct);
        if (!decimal.TryParse(job.Payload.Total, System.Globalization.CultureInfo.InvariantCulture, out _))
        {
            throw new FormatException($"total '{job.Payload.Total}' of order {job.Payload.Id} is not a number");
        }
    }
}

/// <summary>Enqueues a few jobs a second so the pages have live data: emails, orders (one in fifteen poison) and reports (never consumed here).</summary>
public sealed class Producer(IJobQueueProvider queues) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        IJobQueue emails = queues.GetQueue("emails"), orders = queues.GetQueue("orders"), reports = queues.GetQueue("reports");
        for (int i = 1; !stoppingToken.IsCancellationRequested; i++)
        {
            try
            {
                await emails.EnqueueObjectAsync(new Email($"user{i}@example.org", "Welcome"), cancellationToken: stoppingToken);
                if (i % 2 == 0)
                {
                    await orders.EnqueueObjectAsync(new Order(i, i % 15 == 0 ? "12,50" : "99.00"), cancellationToken: stoppingToken);
                }

                if (i % 20 == 0 && (await reports.GetStatusAsync(stoppingToken)).Ready < 200)
                {
                    await reports.EnqueueObjectAsync(new { Report = "daily", Part = i }, cancellationToken: stoppingToken);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(400), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is ResilientQueueException or TimeoutException)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken); // e.g. Redis not reachable yet, or a full queue
            }
        }
    }
}
