using ResilientQueue.Concurrency;

namespace ResilientQueue.Tests.Concurrency;

public sealed class NoLoadLatencyTests
{
    private const int Interval = 100;

    [Fact]
    public void FirstProbe_IsConfirmedAfterATenthOfTheInterval_ThenProbesComeEveryInterval()
    {
        var noLoad = new NoLoadLatency(Interval, minLimit: 1);

        // The first probe, on a cold client: 46 ms where the downstream takes 40.
        Probe(noLoad, limit: 10, windowAverage: 0.040, sample: 0.046);
        noLoad.Seconds.Should().BeApproximately(0.046, 1e-9);

        QueuedWindowsUntilProbe(noLoad, limit: 10, average: 0.060).Should().Be(Interval / 10, "the first estimate was taken while the client warmed up: it is confirmed soon");

        // The confirming probe measures 40 ms (moved by 15 %, under the 20 % that would call for another early probe).
        Probe(noLoad, limit: 10, windowAverage: 0.060, sample: 0.040);
        noLoad.Seconds.Should().BeApproximately(0.040, 1e-9);
        QueuedWindowsUntilProbe(noLoad, limit: 10, average: 0.050).Should().Be(Interval, "a probe that confirmed the value waits the whole interval");
    }

    [Fact]
    public void Probe_MovingTheValueByMoreThan20Percent_IsConfirmedAfterATenthOfTheInterval()
    {
        var noLoad = new NoLoadLatency(Interval, minLimit: 1);
        Probe(noLoad, limit: 10, windowAverage: 0.040, sample: 0.040);
        QueuedWindowsUntilProbe(noLoad, limit: 10, average: 0.050).Should().Be(Interval / 10);
        Probe(noLoad, limit: 10, windowAverage: 0.050, sample: 0.040);
        QueuedWindowsUntilProbe(noLoad, limit: 10, average: 0.050).Should().Be(Interval);

        Probe(noLoad, limit: 10, windowAverage: 0.050, sample: 0.050);

        QueuedWindowsUntilProbe(noLoad, limit: 10, average: 0.060).Should().Be(Interval / 10, "the value moved by 25 %");
    }

    // Runs a whole probe at a constant latency: the first window (or the one passed) starts it, samples end it (a first
    // probe goes one step deeper before it ends), and the window after it only settles.
    private static void Probe(NoLoadLatency noLoad, int limit, double windowAverage, double sample)
    {
        if (noLoad.Seconds <= 0)
        {
            noLoad.OnWindow(limit, windowAverage, appLimited: false, out bool first).Should().BeFalse();
            first.Should().BeTrue("the first window starts a probe");
        }

        noLoad.BeginProbe(limit, windowAverage, now: 0);
        for (int i = 0; noLoad.Probing; i++)
        {
            i.Should().BeLessThan(10_000, "a probe at a constant latency ends");
            noLoad.OnProbeSample(sample, now: 1);
        }

        noLoad.OnWindow(limit, windowAverage, appLimited: false, out bool settling).Should().BeFalse("the first window after a probe only settles");
        settling.Should().BeFalse();
    }

    private static int QueuedWindowsUntilProbe(NoLoadLatency noLoad, int limit, double average)
    {
        for (int windows = 1; windows <= 10 * Interval; windows++)
        {
            noLoad.OnWindow(limit, average, appLimited: false, out bool probe);
            if (probe)
            {
                return windows;
            }
        }

        return -1;
    }
}
