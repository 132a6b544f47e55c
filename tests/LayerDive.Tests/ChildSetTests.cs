using LayerDive.Core.Model;

namespace LayerDive.Tests;

/// <summary>A directory's children: every lookup, add and removal agrees with a plain dictionary, across the change from a scanned list to a hashed table and back.</summary>
public sealed class ChildSetTests
{
    [Theory]
    [InlineData(1, 5)]
    [InlineData(2, 40)]
    [InlineData(3, 3000)]
    public void Adds_finds_and_removes_like_a_dictionary(int seed, int names)
    {
        var random = new Random(seed);
        var root = new TreeNode("", null, 0);
        var model = new Dictionary<string, TreeNode>(StringComparer.Ordinal);
        int last = 0;
        for (int step = 0; step < names * 20; step++)
        {
            var name = "n" + random.Next(names);
            var found = root.Child(name);
            Assert.Same(model.GetValueOrDefault(name), found);
            if (found is null)
            {
                var child = root.AddChild(name, ref last);
                model.Add(name, child);
                Assert.Same(child, root.Child(name.AsSpan()));
            }
            else if (random.Next(3) == 0)
            {
                root.RemoveChild(found);
                model.Remove(name);
                Assert.Null(root.Child(name));
            }
            if (step % 97 == 0)
            {
                Assert.Equal(model.Count, root.ChildCount);
                Assert.Equal(model.Values.OrderBy(n => n.Number), root.AllChildren.OrderBy(n => n.Number));
                foreach (var (k, v) in model) Assert.Same(v, root.Child(k));
            }
        }
        root.TrimExcess();
        Assert.Equal(model.Count, root.ChildCount);
        foreach (var (k, v) in model) Assert.Same(v, root.Child(k));
        Assert.Null(root.Child("absent"));
    }
}
