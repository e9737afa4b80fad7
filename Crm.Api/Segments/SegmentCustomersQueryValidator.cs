using System.Text.Json;
using Crm.Api.Customers;
using FluentValidation;

namespace Crm.Api.Segments;

// Ordering and paging by GET /api/customers' own rules.
public sealed class SegmentCustomersQueryValidator : AbstractValidator<SegmentCustomersQuery>
{
    public SegmentCustomersQueryValidator(IValidator<CustomerListQuery> list)
    {
        RuleFor(q => q).Custom((query, context) =>
        {
            foreach (var error in list.Validate(query.Over(new SegmentFilter())).Errors)
                context.AddFailure(JsonNamingPolicy.CamelCase.ConvertName(error.PropertyName), error.ErrorMessage);
        });
    }
}
