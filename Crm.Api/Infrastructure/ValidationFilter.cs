using System.Text.Json;
using FluentValidation;

namespace Crm.Api.Infrastructure;

// Validates every handler argument that has an IValidator<T>, before the handler runs.
// Which arguments those are is worked out once per endpoint at start-up, so an endpoint
// with nothing to validate (get by id, say) pays nothing per request.
public static class ValidationFilter
{
    public static EndpointFilterDelegate Create(EndpointFilterFactoryContext endpoint, EndpointFilterDelegate next)
    {
        var registered = endpoint.ApplicationServices.GetRequiredService<IServiceProviderIsService>();
        var validated = endpoint.MethodInfo.GetParameters()
            .Select((parameter, index) => (Index: index, Validator: typeof(IValidator<>).MakeGenericType(parameter.ParameterType)))
            .Where(p => registered.IsService(p.Validator))
            .ToArray();
        if (validated.Length == 0)
            return next;

        return async context =>
        {
            foreach (var (index, validatorType) in validated)
            {
                if (context.Arguments[index] is not { } argument)
                    continue;
                var validator = (IValidator)context.HttpContext.RequestServices.GetRequiredService(validatorType);
                var result = await validator.ValidateAsync(new ValidationContext<object>(argument), context.HttpContext.RequestAborted);
                if (!result.IsValid)
                {
                    var errors = result.Errors
                        .GroupBy(e => JsonNamingPolicy.CamelCase.ConvertName(e.PropertyName))
                        .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).Distinct().ToArray());
                    return TypedResults.ValidationProblem(errors);
                }
            }
            return await next(context);
        };
    }
}
