// CliTestBase (reworked in parallel with the Redis fixtures) still names the hand-written ManualTimeProvider that the
// suites replaced with FakeTimeProvider (Microsoft.Extensions.TimeProvider.Testing). It uses only what both have (a start
// time and Advance), so the old name stands for FakeTimeProvider until CliTestBase names it; then delete this file.
global using ManualTimeProvider = Microsoft.Extensions.Time.Testing.FakeTimeProvider;
