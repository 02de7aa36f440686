#pragma warning disable CA1050, CA1708, CA1707, CA1052, CA1024
using System.Collections;

namespace XmlDocShapes;

/// <summary>A generic type with members of every kind.</summary>
/// <typeparam name="T">The element.</typeparam>
public class Outer<T>
{
    /// <summary>Static constructor.</summary>
    static Outer()
    {
    }

    /// <summary>Constructor.</summary>
    public Outer()
    {
    }

    /// <summary>Internal constructor.</summary>
    /// <param name="value">A value.</param>
    internal Outer(T value) => Value = value;

    /// <summary>A field.</summary>
    public T? Value;

    /// <summary>An internal field.</summary>
    internal int HiddenField;

    /// <summary>A protected field.</summary>
    protected int ProtectedField;

    /// <summary>A private protected field.</summary>
    private protected int PrivateProtectedField;

    /// <summary>A constant.</summary>
    public const int Constant = 1;

    /// <summary>An event.</summary>
    public event EventHandler? Changed;

    /// <summary>An internal event.</summary>
    internal event Action? HiddenChanged;

    /// <summary>A property with a private setter.</summary>
    public int Count { get; private set; }

    /// <summary>A property whose only visible accessor is protected.</summary>
    protected internal int Protected { get; set; }

    /// <summary>An internal property.</summary>
    internal int Hidden { get; set; }

    /// <summary>An indexer.</summary>
    /// <param name="index">Index.</param>
    /// <param name="key">Key.</param>
    public int this[int index, string key] => index;

    /// <summary>An internal indexer.</summary>
    /// <param name="index">Index.</param>
    internal int this[long index] => 0;

    /// <summary>A generic method with every parameter shape.</summary>
    /// <typeparam name="TResult">The result.</typeparam>
    /// <param name="convert">Func.</param>
    /// <param name="array">Array.</param>
    /// <param name="grid">Two dimensions.</param>
    /// <param name="jagged">Jagged.</param>
    /// <param name="byRef">By reference.</param>
    /// <param name="output">Out.</param>
    /// <param name="input">In.</param>
    /// <param name="nullable">A nullable value type.</param>
    /// <param name="lists">Generic of nullable, in an array.</param>
    /// <returns>A result.</returns>
    public TResult Convert<TResult>(Func<T, TResult> convert, TResult[] array, T[,] grid, int[][] jagged, ref int byRef, out string output, in long input, int? nullable, List<int?>[] lists)
    {
        output = "";
        return convert(Value!);
    }

    /// <summary>A generic method that is internal.</summary>
    /// <typeparam name="T1">One.</typeparam>
    /// <typeparam name="T2">Two.</typeparam>
    /// <param name="pair">A pair.</param>
    internal void Hide<T1, T2>(KeyValuePair<T1, T2> pair)
    {
    }

    /// <summary>Pointers.</summary>
    /// <param name="pointer">Pointer.</param>
    /// <param name="pointerToPointer">Pointer to pointer.</param>
    public unsafe void Pointers(int* pointer, void** pointerToPointer)
    {
    }

    /// <summary>A function pointer, internal.</summary>
    /// <param name="callback">Callback.</param>
    internal unsafe void FunctionPointer(delegate*<int, string, void> callback)
    {
    }

    /// <summary>A protected method.</summary>
    protected virtual void OnChanged()
    {
    }

    /// <summary>A private protected method.</summary>
    private protected void PrivateProtected()
    {
    }

    /// <summary>A private method.</summary>
    private void Private()
    {
    }

    /// <summary>Addition.</summary>
    /// <param name="left">Left.</param>
    /// <param name="right">Right.</param>
    /// <returns>Left.</returns>
    public static Outer<T> operator +(Outer<T> left, Outer<T> right) => left;

    /// <summary>Explicit conversion.</summary>
    /// <param name="value">Value.</param>
    public static explicit operator int(Outer<T> value) => 0;

    /// <summary>Implicit conversion.</summary>
    /// <param name="value">Value.</param>
    public static implicit operator Outer<T>(T value) => new();

    /// <summary>A nested generic type.</summary>
    /// <typeparam name="U">The second.</typeparam>
    public class Inner<U>
    {
        /// <summary>Uses both type parameters, and the nested type constructed the other way round.</summary>
        /// <param name="t">T.</param>
        /// <param name="u">U.</param>
        /// <param name="swapped">Swapped.</param>
        public void Take(T t, U u, Outer<U>.Inner<T> swapped)
        {
        }

        /// <summary>Nested again, not generic.</summary>
        public struct Deepest
        {
            /// <summary>A field.</summary>
            public int Field;
        }
    }

    /// <summary>A protected nested type: visible to derived types in other assemblies.</summary>
    protected class ProtectedNested
    {
        /// <summary>A public method of a protected type.</summary>
        public void Visible()
        {
        }
    }

    /// <summary>A private nested type.</summary>
    private sealed class PrivateNested
    {
        /// <summary>A public method of a private type.</summary>
        public void NotVisible()
        {
        }
    }
}

/// <summary>A generic interface.</summary>
/// <typeparam name="T">Element.</typeparam>
public interface IShape<T>
{
    /// <summary>The area.</summary>
    /// <returns>Area.</returns>
    T Area();

    /// <summary>A property.</summary>
    int Sides { get; }
}

/// <summary>Explicit interface implementations are private in metadata.</summary>
public sealed class Square : IShape<int>, IEnumerable<KeyValuePair<string, int>>
{
    /// <summary>Explicit implementation.</summary>
    /// <returns>Zero.</returns>
    int IShape<int>.Area() => 0;

    /// <summary>Explicit property.</summary>
    int IShape<int>.Sides => 4;

    /// <summary>Explicit generic enumerator.</summary>
    /// <returns>Nothing.</returns>
    IEnumerator<KeyValuePair<string, int>> IEnumerable<KeyValuePair<string, int>>.GetEnumerator() => throw new NotSupportedException();

    /// <summary>Explicit enumerator.</summary>
    /// <returns>Nothing.</returns>
    IEnumerator IEnumerable.GetEnumerator() => throw new NotSupportedException();
}

/// <summary>An enum.</summary>
public enum Color
{
    /// <summary>Red.</summary>
    Red,
}

/// <summary>A delegate.</summary>
/// <typeparam name="T">Element.</typeparam>
/// <param name="value">Value.</param>
public delegate void Handler<in T>(T value);

/// <summary>A record struct.</summary>
/// <param name="Name">The name.</param>
public readonly record struct Named(string Name);

/// <summary>An internal type.</summary>
internal static class Hidden
{
    /// <summary>A public method of an internal type.</summary>
    /// <param name="values">Values.</param>
    public static void Method(params int[] values)
    {
    }

    /// <summary>A public nested type of an internal type.</summary>
    public sealed class Nested
    {
    }
}

/// <summary>An internal generic interface.</summary>
/// <typeparam name="TKey">Key.</typeparam>
/// <typeparam name="TValue">Value.</typeparam>
internal interface IHidden<TKey, TValue>
{
    /// <summary>A method.</summary>
    /// <param name="key">Key.</param>
    /// <returns>Value.</returns>
    TValue Get(TKey key);
}

/// <summary>Implements an internal two-parameter interface explicitly.</summary>
public sealed class HiddenImplementation : IHidden<string, int>
{
    /// <summary>Explicit implementation of an internal interface.</summary>
    /// <param name="key">Key.</param>
    /// <returns>Zero.</returns>
    int IHidden<string, int>.Get(string key) => 0;
}
