using System.Reflection;

namespace ResilientQueue.Tests.Telemetry;

/// <summary>An <see cref="IJobQueue"/> whose backend is down: every call but <see cref="IJobQueueAdmin.Name"/> throws.</summary>
public class UnreachableQueue : DispatchProxy
{
    private string _name = "";

    public static IJobQueue Create(string name)
    {
        IJobQueue queue = Create<IJobQueue, UnreachableQueue>();
        ((UnreachableQueue)(object)queue)._name = name;
        return queue;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
        targetMethod?.Name == "get_Name" ? _name : throw new TimeoutException("the backend did not answer");
}
