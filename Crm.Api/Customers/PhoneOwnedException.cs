namespace Crm.Api.Customers;

// A customer write whose phone is another customer's other phone (customer_phones): refused
// inside its transaction, answered 409 naming that customer (CustomersEndpoints).
internal sealed class PhoneOwnedException() : Exception("The phone is another customer's other phone.");
