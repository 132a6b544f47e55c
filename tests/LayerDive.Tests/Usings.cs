global using Xunit;
global using LayerDive.Tests.Support;
