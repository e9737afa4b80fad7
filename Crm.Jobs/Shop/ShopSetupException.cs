namespace Crm.Jobs.Shop;

// The follower cannot work with the shop's database as configured: a one-line reason an
// operator can act on (state `failed`). Connection errors are not this: they are retried.
public sealed class ShopSetupException(string message) : Exception(message);
