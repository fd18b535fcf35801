-- wrk script: a password-guessing flood against one account from one address.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"victim@bench.example","password":"a wrong guess of a password"}'
