using System.ComponentModel;
using System.Reflection;
using ResilientQueue.Backends;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace ResilientQueue.Conformance.Infrastructure;

/// <summary>
/// Declares, on a backend's conformance test class, an optional contract (<see cref="JobQueueCapabilities"/>) its
/// backend does not offer, and why: the scenarios that need it (<see cref="CapabilityFactAttribute"/>) are skipped with
/// that reason, and the suite checks that the backend itself says the same (<see cref="JobQueueBase.Capabilities"/>)
/// and rejects the contract's use with a <see cref="NotSupportedException"/> naming it.
/// </summary>
/// <param name="capability">The contract the backend lacks.</param>
/// <param name="reason">Why, for the skip reason.</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = true)]
public sealed class BackendLacksAttribute(JobQueueCapabilities capability, string reason) : Attribute
{
    /// <summary>The contract the backend lacks.</summary>
    public JobQueueCapabilities Capability { get; } = capability;

    /// <summary>Why.</summary>
    public string Reason { get; } = reason;

    /// <summary>What the test class <paramref name="testClass"/> declares its backend lacks.</summary>
    public static IReadOnlyList<BackendLacksAttribute> Of(Type testClass) => [.. testClass.GetCustomAttributes<BackendLacksAttribute>(inherit: true)];
}

/// <summary>
/// A scenario that needs an optional contract: it runs on backends that offer it and is skipped, with the reason the
/// test class gives (<see cref="BackendLacksAttribute"/>), on backends that do not. With <see cref="WhenLacking"/>, the
/// other way round: a scenario about how a backend rejects a contract it lacks.
/// </summary>
/// <param name="capability">The contract.</param>
[AttributeUsage(AttributeTargets.Method)]
[XunitTestCaseDiscoverer("ResilientQueue.Conformance.Infrastructure.CapabilityFactDiscoverer", "ResilientQueue.Conformance")]
public sealed class CapabilityFactAttribute(JobQueueCapabilities capability) : FactAttribute
{
    /// <summary>The contract.</summary>
    public JobQueueCapabilities Capability { get; } = capability;

    /// <summary>Runs the scenario only on backends that lack the contract (it is skipped on the others).</summary>
    public bool WhenLacking { get; set; }
}

/// <summary>Discovers <see cref="CapabilityFactAttribute"/> scenarios as <see cref="CapabilityTestCase"/>s.</summary>
/// <param name="diagnostics">xunit's diagnostic sink.</param>
public sealed class CapabilityFactDiscoverer(IMessageSink diagnostics) : IXunitTestCaseDiscoverer
{
    /// <inheritdoc />
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute) =>
        [new CapabilityTestCase(diagnostics, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod)];
}

/// <summary>A test case whose skip reason comes from the concrete test class's <see cref="BackendLacksAttribute"/>s.</summary>
public sealed class CapabilityTestCase : XunitTestCase
{
    /// <summary>For xunit's deserializer.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [Obsolete("Called by the de-serializer only.")]
    public CapabilityTestCase()
    {
    }

    /// <summary>Creates the test case.</summary>
    public CapabilityTestCase(IMessageSink diagnostics, TestMethodDisplay display, TestMethodDisplayOptions displayOptions, ITestMethod testMethod)
        : base(diagnostics, display, displayOptions, testMethod)
    {
    }

    /// <inheritdoc />
    protected override string? GetSkipReason(IAttributeInfo factAttribute)
    {
        if (factAttribute is not IReflectionAttributeInfo { Attribute: CapabilityFactAttribute fact } || TestMethod.TestClass.Class is not IReflectionTypeInfo testClass)
        {
            return base.GetSkipReason(factAttribute);
        }

        BackendLacksAttribute? lack = BackendLacksAttribute.Of(testClass.Type).FirstOrDefault(l => (l.Capability & fact.Capability) != 0);
        if (fact.WhenLacking)
        {
            return lack is null ? $"The backend of {testClass.Type.Name} offers JobQueueCapabilities.{fact.Capability}; this scenario is about a backend that lacks it." : null;
        }

        return lack is null ? base.GetSkipReason(factAttribute) : $"Needs JobQueueCapabilities.{fact.Capability}, which the backend of {testClass.Type.Name} lacks: {lack.Reason}";
    }
}
