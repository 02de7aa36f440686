using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ResilientQueue.Limiter.Tests;

/// <summary>
/// A downstream with a concurrency capacity, served by Kestrel on 127.0.0.1 (a free port): at most
/// <see cref="Capacity"/> requests are served at once, each for <see cref="BaseLatency"/>; the rest wait in a FIFO queue,
/// so latency grows with the load past the capacity, as it does at a real service. A request that would make the queue
/// longer than <see cref="RejectQueueLength"/> is answered 503 at once (no Retry-After); during
/// <see cref="Throttle"/> every request is answered at once with that status and Retry-After. A request whose client gives
/// up while it waits leaves the queue; one being served is served to the end (the work is done anyway). The test changes
/// all of these while the server runs.
/// </summary>
public sealed class CapacityServer : IAsyncDisposable
{
    private readonly object _lock = new();
    private readonly LinkedList<TaskCompletionSource> _waiting = new();
    private readonly WebApplication _app;
    private int _capacity = 1;
    private int _active;
    private long _served;
    private long _busyTicks;
    private long _busySince = Stopwatch.GetTimestamp();
    private long _rejected;
    private long _throttled;
    private long _abandoned;
    private long _arrivals;
    private int _maxActive;
    private (HttpStatusCode Status, TimeSpan RetryAfter, long Until)? _throttle;

    private CapacityServer(WebApplication app) => _app = app;

    /// <summary>The server's base address, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>How many requests are served at once.</summary>
    public int Capacity
    {
        get => Volatile.Read(ref _capacity);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            lock (_lock)
            {
                _capacity = value;
                PumpLocked();
            }
        }
    }

    /// <summary>How long a request is served once it has a slot.</summary>
    public TimeSpan BaseLatency { get; set; } = TimeSpan.FromMilliseconds(40);

    /// <summary>The longest the queue may be; a request beyond it is answered 503 without Retry-After. Default: unbounded.</summary>
    public int RejectQueueLength { get; set; } = int.MaxValue;

    /// <summary>A snapshot of what the server has done so far.</summary>
    public ServerCounters Counters
    {
        get
        {
            lock (_lock)
            {
                long now = Stopwatch.GetTimestamp();
                AccountBusyLocked(now);
                return new(now, _arrivals, _served, _busyTicks, _rejected, _throttled, _abandoned, _active, _waiting.Count, _capacity, _maxActive);
            }
        }
    }

    /// <summary>Starts a server.</summary>
    public static async Task<CapacityServer> StartAsync(int capacity, TimeSpan baseLatency)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(IPAddress.Loopback, 0);
        });
        WebApplication app = builder.Build();
        var server = new CapacityServer(app) { Capacity = capacity, BaseLatency = baseLatency };
        app.Run(server.HandleAsync);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        server.Address = new Uri(address.EndsWith('/') ? address : address + "/");
        return server;
    }

    /// <summary>Answers every request at once with <paramref name="status"/> and <c>Retry-After</c> for <paramref name="duration"/>.</summary>
    public void Throttle(HttpStatusCode status, TimeSpan retryAfter, TimeSpan duration)
    {
        lock (_lock)
        {
            _throttle = (status, retryAfter, Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency));
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            foreach (TaskCompletionSource waiter in _waiting)
            {
                waiter.TrySetCanceled();
            }

            _waiting.Clear();
        }

        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        LinkedListNode<TaskCompletionSource>? queued = null;
        lock (_lock)
        {
            _arrivals++;
            if (_throttle is { } throttle && Stopwatch.GetTimestamp() < throttle.Until)
            {
                _throttled++;
                context.Response.StatusCode = (int)throttle.Status;
                context.Response.Headers.RetryAfter = ((int)Math.Ceiling(throttle.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                return;
            }

            if (_active < _capacity && _waiting.Count == 0)
            {
                AccountBusyLocked(Stopwatch.GetTimestamp());
                _active++;
                _maxActive = Math.Max(_maxActive, _active);
            }
            else if (_waiting.Count >= RejectQueueLength)
            {
                _rejected++;
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            }
            else
            {
                queued = _waiting.AddLast(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            }
        }

        if (queued is not null && !await WaitForSlotAsync(queued, context.RequestAborted))
        {
            return;
        }

        try
        {
            await Task.Delay(BaseLatency, CancellationToken.None);
        }
        finally
        {
            lock (_lock)
            {
                _served++;
                AccountBusyLocked(Stopwatch.GetTimestamp());
                _active--;
                PumpLocked();
            }
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentLength = 0;
    }

    /// <summary>Waits for a slot; false when the client gave up first (the request left the queue).</summary>
    private async Task<bool> WaitForSlotAsync(LinkedListNode<TaskCompletionSource> queued, CancellationToken aborted)
    {
        using CancellationTokenRegistration registration = aborted.Register(() =>
        {
            lock (_lock)
            {
                if (queued.List is null)
                {
                    return; // granted just now: the slot is taken and released as usual
                }

                _waiting.Remove(queued);
                _abandoned++;
            }

            queued.Value.TrySetCanceled();
        });
        try
        {
            await queued.Value.Task;
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Adds the slot-time used since the last change: busy time is the integral of the slots in use.</summary>
    private void AccountBusyLocked(long now)
    {
        _busyTicks += _active * (now - _busySince);
        _busySince = now;
    }

    /// <summary>Gives free slots to the oldest waiters (the caller has just accounted the busy time).</summary>
    private void PumpLocked()
    {
        AccountBusyLocked(Stopwatch.GetTimestamp());
        while (_active < _capacity && _waiting.First is { } next)
        {
            _waiting.RemoveFirst();
            _active++;
            _maxActive = Math.Max(_maxActive, _active);
            next.Value.TrySetResult();
        }
    }
}

/// <summary>What a <see cref="CapacityServer"/> had done at <see cref="Timestamp"/> (a <see cref="Stopwatch"/> timestamp).</summary>
public readonly record struct ServerCounters(long Timestamp, long Arrivals, long Served, long BusyTicks, long Rejected, long Throttled, long Abandoned, int Active, int Waiting, int Capacity, int MaxActive);
