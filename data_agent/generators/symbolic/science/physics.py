"""Physics (fund, class): mechanics, oscillations, circuits, optics, gravitation, electrostatics."""

from __future__ import annotations

import sympy as sp

from . import constants as C
from ..base import F30, Ctx, Resample, X, ev, fill, num, q, res, sig_round, template

PHYS = "physics"
GTXT = r" Take $g = 9.81 \mathrm{~m} \mathrm{~s}^{-2}$."
KES = r"8.988 \times 10^{9}"
GS = r"6.674 \times 10^{-11}"
DEG = r"^{\circ}"
MPS = r"$\mathrm{m} / \mathrm{s}$"


def _rad(deg: float) -> sp.Expr:
    return sp.pi * X(deg) / 180


def _deg(q_: float) -> str:
    return f"${num(q_)}^{{\\circ}}$"


# ------------------------------------------------------------------ kinematics

@template("constant_acceleration", "kinematics", PHYS, ("fund",))
def constant_acceleration(c: Ctx):
    v = c.variant()
    if c.d == 1:
        v0 = c.u("v0", 0, 30, 2)
        a = c.u("a", 0.5, 6)
        t = c.u("t", 1, 20)
        ans = X(v0) * X(t) + X(a) * X(t) ** 2 / 2
        sit = fill(r"A cart moving at @v0 speeds up with a constant acceleration of @a for @t.",
                   v0=q(v0, C.MS), a=q(a, C.MS2), t=q(t, C.S))
        ask = "How far does it travel in this time?"
        steps = [r"$x = v_0t + \tfrac{1}{2}at^2$.",
                 fill(r"$x = (@v0)(@t) + \tfrac{1}{2}(@a)(@t)^2 = @ANS \mathrm{~m}$.", v0=v0, t=t, a=a)]
        unit = r"$\mathrm{m}$"
    elif c.d == 2:
        v0 = c.u("v0", 5, 40)
        d = c.u("d", 10, 200)
        a = X(v0) ** 2 / (2 * X(d))
        ans = X(v0) / a
        sit = fill(r"A cyclist travelling at @v0 brakes uniformly and stops in a distance of @d.", v0=q(v0, C.MS), d=q(d, C.M))
        ask = "How long does it take to stop?"
        steps = [fill(r"$v^2 = v_0^2 - 2ad$ with $v = 0$: $a = v_0^2/(2d) = (@v0)^2/(2 \cdot @d) = @a \mathrm{~m} \mathrm{~s}^{-2}$.",
                      v0=v0, d=d, a=res(ev(a))),
                 fill(r"$t = v_0/a = @v0/@a = @ANS \mathrm{~s}$.", v0=v0, a=res(ev(a)))]
        unit = r"$\mathrm{s}$"
    else:
        vk = c.u("v0_kmh", 30, 130)
        tr = c.u("t_reaction", 0.5, 2.0, 2)
        a = c.u("a", 3, 9, 2)
        vm = X(vk) / sp.Rational(36, 10)
        ans = vm * X(tr) + vm**2 / (2 * X(a))
        sit = fill(r"A driver travelling at @v sees an obstacle. Her reaction time is @tr, after which the car decelerates uniformly at @a.",
                   v=q(vk, r"\mathrm{~km} / \mathrm{h}"), tr=q(tr, C.S), a=q(a, C.MS2))
        ask = "What is the total stopping distance?"
        steps = [fill(r"$v_0 = @vk/3.6 = @vm \mathrm{~m} \mathrm{~s}^{-1}$.", vk=vk, vm=res(ev(vm))),
                 fill(r"Reaction distance $v_0t_\mathrm{r} = @x1 \mathrm{~m}$; braking distance $v_0^2/(2a) = @x2 \mathrm{~m}$.",
                      x1=res(ev(vm * X(tr))), x2=res(ev(vm**2 / (2 * X(a))))),
                 r"Total $d = @ANS \mathrm{~m}$."]
        unit = r"$\mathrm{m}$"
    text = [
        "@sit @ask",
        "Consider the following motion. @sit @ask",
        "Assume constant acceleration. @sit @ask",
    ][v]
    return c.done(fill(text, sit=sit, ask=ask), unit, steps, ans)


_t = sp.Symbol("t", positive=True)


@template("projectile_motion", "kinematics", PHYS, ("fund", "class"))
def projectile_motion(c: Ctx):
    v = c.variant()
    v0 = c.u("v0", 5, 60)
    th = c.step("theta_deg", 15, 75, 1)
    vy = X(v0) * sp.sin(_rad(th))
    vx = X(v0) * sp.cos(_rad(th))
    launch = fill(r"at @v0 at an angle of @th above the horizontal", v0=q(v0, C.MS), th=_deg(th))
    if c.d == 1:
        ans = 2 * vy / C.g
        where = "from level ground"
        ask = "How long is the projectile in the air?"
        steps = [r"Time of flight on level ground: $T = 2v_0\sin\theta/g$.",
                 fill(r"$T = 2(@v0)\sin @th/9.81 = @ANS \mathrm{~s}$.", v0=v0, th=f"{num(th)}^{{\\circ}}")]
        unit = r"$\mathrm{s}$"
    elif c.d == 2:
        T = 2 * vy / C.g
        ans = vx * T
        where = "from level ground"
        ask = "What horizontal distance does it cover before landing?"
        steps = [fill(r"$T = 2v_0\sin\theta/g = 2(@v0)\sin @th/9.81 = @T \mathrm{~s}$.", v0=v0, th=f"{num(th)}^{{\\circ}}", T=res(ev(T))),
                 fill(r"$R = (v_0\cos\theta)T = (@vx)(@T) = @ANS \mathrm{~m}$.", vx=res(ev(vx)), T=res(ev(T)))]
        unit = r"$\mathrm{m}$"
    else:
        h = c.u("h", 5, 100)
        T = (vy + sp.sqrt(vy**2 + 2 * C.g * X(h))) / C.g  # positive root of h + vy t - g t^2/2 = 0
        ans = vx * T
        where = fill(r"from the top of a cliff @h high", h=q(h, C.M))
        ask = "How far from the foot of the cliff does it land?"
        steps = [fill(r"$v_x = @vx \mathrm{~m} \mathrm{~s}^{-1}$, $v_y = @vy \mathrm{~m} \mathrm{~s}^{-1}$.", vx=res(ev(vx)), vy=res(ev(vy))),
                 fill(r"Landing: $0 = @h + @vy\,t - 4.905t^2$, positive root $t = @T \mathrm{~s}$.", h=h, vy=res(ev(vy)), T=res(ev(T))),
                 fill(r"$x = v_xt = (@vx)(@T) = @ANS \mathrm{~m}$.", vx=res(ev(vx)), T=res(ev(T)))]
        unit = r"$\mathrm{m}$"
    text = [
        "A ball is launched @where @launch. @ask Ignore air resistance.",
        "Neglecting air resistance, consider a stone thrown @where @launch. @ask",
        "An object is projected @where @launch. @ask (Ignore drag.)",
    ][v]
    return c.done(fill(text, where=where, launch=launch, ask=ask) + GTXT, unit, steps, ans)


# ------------------------------------------------------------------ dynamics

@template("inclined_plane", "dynamics", PHYS, ("fund",))
def inclined_plane(c: Ctx):
    v = c.variant()
    th = c.step("theta_deg", 10, 60, 1)
    s, co = sp.sin(_rad(th)), sp.cos(_rad(th))
    ths = f"{num(th)}^{{\\circ}}"
    if c.d == 1:
        ans = C.g * s
        surf = "a frictionless ramp"
        ask = "the acceleration of the block down the slope"
        steps = [r"Along the slope: $a = g\sin\theta$.", fill(r"$a = 9.81\sin @th = @ANS \mathrm{~m} \mathrm{~s}^{-2}$.", th=ths)]
        unit = r"$\mathrm{m} / \mathrm{s}^2$"
    else:
        mu = c.u("mu_k", 0.05, 0.6, 2)
        a = C.g * (s - X(mu) * co)
        if ev(a) < 0.3:
            raise Resample
        surf = fill(r"a ramp with coefficient of kinetic friction $\mu_k = @mu$", mu=mu)
        steps = [r"Newton's second law along the slope: $a = g(\sin\theta - \mu_k\cos\theta)$.",
                 fill(r"$a = 9.81(\sin @th - @mu\cos @th) = @a \mathrm{~m} \mathrm{~s}^{-2}$.", th=ths, mu=mu, a=res(ev(a)))]
        if c.d == 2:
            ans = a
            ask = "the acceleration of the block down the slope"
            steps[-1] = steps[-1].replace(res(ev(a)) + r" \mathrm", r"@ANS \mathrm")
            unit = r"$\mathrm{m} / \mathrm{s}^2$"
        else:
            L = c.u("L_cm", 50, 500)
            ans = sp.sqrt(2 * a * X(L) / 100)
            ask = fill(r"the speed of the block after it slides @L from rest", L=q(L, C.CM))
            steps.append(fill(r"$v = \sqrt{2aL} = \sqrt{2(@a)(@L)} = @ANS \mathrm{~m} \mathrm{~s}^{-1}$.", a=res(ev(a)), L=num(L / 100)))
            unit = MPS
    text = [
        "A block is released on @surf inclined at @th to the horizontal. Find @ask.",
        "Calculate @ask for a crate placed on @surf that makes an angle of @th with the horizontal.",
        "A box slides down @surf tilted at @th. What is @ask?",
    ][v]
    return c.done(fill(text, surf=surf, th=_deg(th), ask=ask) + GTXT, unit, steps, ans)


@template("atwood_machine", "dynamics", PHYS, ("fund", "class"))
def atwood_machine(c: Ctx):
    v = c.variant()
    if c.d < 3:
        m1 = c.u("m1", 1.0, 10.0)
        m2 = c.u("m2", 0.5, m1 * 0.9)
        mm = (q(m1, C.KG), q(m2, C.KG))
        M1, M2 = X(m1), X(m2)
    else:
        m1 = c.u("m1_g", 200, 5000)
        m2 = c.u("m2_g", 100, m1 * 0.9)
        mm = (q(m1, C.G_), q(m2, C.G_))
        M1, M2 = X(m1) / 1000, X(m2) / 1000
    if m2 >= m1 * 0.97:
        raise Resample
    a = (M1 - M2) * C.g / (M1 + M2)
    steps = [fill(r"$a = \frac{(m_1 - m_2)g}{m_1 + m_2} = \frac{(@a - @b)(9.81)}{@a + @b} = @acc \mathrm{~m} \mathrm{~s}^{-2}$.",
                  a=num(ev(M1)), b=num(ev(M2)), acc=res(ev(a)))]
    if c.d == 1:
        ans = a
        ask = "the magnitude of the acceleration of the blocks"
        steps[0] = steps[0].replace(res(ev(a)) + r" \mathrm", r"@ANS \mathrm")
        unit = r"$\mathrm{m} / \mathrm{s}^2$"
    elif c.d == 2:
        ans = M2 * (C.g + a)
        ask = "the tension in the string"
        steps.append(fill(r"For the lighter block: $T = m_2(g + a) = @b(9.81 + @acc) = @ANS \mathrm{~N}$.", b=num(ev(M2)), acc=res(ev(a))))
        unit = r"$\mathrm{N}$"
    else:
        d = c.u("d_cm", 20, 200)
        ans = sp.sqrt(2 * a * X(d) / 100)
        ask = fill(r"the speed of the blocks after the heavier one has descended @d from rest", d=q(d, C.CM))
        steps.insert(0, fill(r"Convert: $m_1 = @a \mathrm{~kg}$, $m_2 = @b \mathrm{~kg}$, $d = @d \mathrm{~m}$.",
                             a=num(ev(M1)), b=num(ev(M2)), d=num(d / 100)))
        steps.append(fill(r"$v = \sqrt{2ad} = \sqrt{2(@acc)(@d)} = @ANS \mathrm{~m} \mathrm{~s}^{-1}$.", acc=res(ev(a)), d=num(d / 100)))
        unit = MPS
    text = [
        "Two blocks of masses @m1 and @m2 hang from the ends of a light string passing over a frictionless, massless pulley. Find @ask.",
        "In an Atwood machine the masses are @m1 and @m2 (light string, ideal pulley). Calculate @ask.",
        "Masses of @m1 and @m2 are connected by a light cord over an ideal pulley and released. What is @ask?",
    ][v]
    return c.done(fill(text, m1=mm[0], m2=mm[1], ask=ask) + GTXT, unit, steps, ans)


# ------------------------------------------------------------------ energy

@template("spring_launch_energy", "energy", PHYS, ("fund",))
def spring_launch_energy(c: Ctx):
    v = c.variant()
    k = c.u("k", 50, 2000)
    if c.d < 3:
        x = c.u("x", 0.02, 0.3, 2)
        U = X(k) * X(x) ** 2 / 2
        comp = fill(r"compressed by @x", x=q(x, C.M))
        s1 = fill(r"$U = \tfrac{1}{2}kx^2 = \tfrac{1}{2}(@k)(@x)^2 = @U \mathrm{~J}$.", k=k, x=x, U=res(ev(U)))
        if c.d == 1:
            ans = U
            ask = "the elastic potential energy stored in the spring"
            steps = [s1.replace(res(ev(U)) + r" \mathrm", r"@ANS \mathrm")]
            unit = r"$\mathrm{J}$"
            obj = ""
        else:
            m = c.u("m", 0.05, 2.0)
            ans = sp.sqrt(2 * U / X(m))
            obj = fill(r" A block of mass @m rests against it on a frictionless surface.", m=q(m, C.KG))
            ask = "the speed of the block when it leaves the spring after release"
            steps = [s1, fill(r"All of it becomes kinetic energy: $v = \sqrt{2U/m} = \sqrt{2(@U)/@m} = @ANS \mathrm{~m} \mathrm{~s}^{-1}$.",
                              U=res(ev(U)), m=m)]
            unit = MPS
    else:
        x = c.u("x_cm", 2, 30, 2)
        m = c.u("m_g", 20, 1000)
        U = X(k) * (X(x) / 100) ** 2 / 2
        ans = U / (X(m) / 1000 * C.g) * 100
        comp = fill(r"compressed by @x", x=q(x, C.CM))
        obj = fill(r" A ball of mass @m is placed on it and the spring is released, launching the ball vertically.", m=q(m, C.G_))
        ask = "the maximum height the ball rises above its launch point (neglect air resistance)"
        steps = [fill(r"$U = \tfrac{1}{2}kx^2 = \tfrac{1}{2}(@k)(@x)^2 = @U \mathrm{~J}$.", k=k, x=num(x / 100), U=res(ev(U))),
                 fill(r"$mgh = U$: $h = U/(mg) = @U/((@m)(9.81)) = @hm \mathrm{~m}$.", U=res(ev(U)), m=num(m / 1000), hm=res(ev(ans / 100))),
                 r"$h = @ANS \mathrm{~cm}$."]
        unit = r"$\mathrm{cm}$"
    text = [
        "A spring of force constant @k is @comp.@obj Find @ask.",
        "Calculate @ask. The spring has a spring constant of @k and is @comp.@obj",
        "An ideal spring with $k = @kk$ is @comp.@obj What is @ask?",
    ][v]
    extra = GTXT if c.d == 3 else ""
    return c.done(fill(text, k=q(k, C.NPM), kk=q(k, C.NPM)[1:-1], comp=comp, obj=obj, ask=ask) + extra, unit, steps, ans)


@template("work_and_power", "energy", PHYS, ("fund",))
def work_and_power(c: Ctx):
    v = c.variant()
    if c.d < 3:
        m = c.u("m", 2, 200)
        h = c.u("h", 1, 50)
        W = X(m) * C.g * X(h)
        load = fill(r"a load of mass @m is raised at constant speed through a height of @h", m=q(m, C.KG), h=q(h, C.M))
        s1 = fill(r"$W = mgh = (@m)(9.81)(@h) = @W \mathrm{~J}$.", m=m, h=h, W=res(ev(W)))
        if c.d == 1:
            ans, ask, unit = W, "the work done against gravity", r"$\mathrm{J}$"
            steps = [s1.replace(res(ev(W)) + r" \mathrm", r"@ANS \mathrm")]
        else:
            t = c.u("t", 2, 120)
            load += fill(r" in @t", t=q(t, C.S))
            ans, ask, unit = W / X(t), "the average power delivered", r"$\mathrm{W}$"
            steps = [s1, fill(r"$P = W/t = @W/@t = @ANS \mathrm{~W}$.", W=res(ev(W)), t=t)]
    else:
        mt = c.u("m_t", 0.3, 3.0, 2)
        h = c.u("h", 5, 100)
        tmin = c.u("t_min", 0.5, 5, 2)
        eff = c.step("efficiency_pct", 40, 95, 5)
        W = X(mt) * 1000 * C.g * X(h)
        Pout = W / (X(tmin) * 60)
        ans = Pout / (X(eff) / 100) / 1000
        load = fill(r"a lift motor of efficiency @e raises a load of @m through @h in @t",
                    e=f"${num(eff)} \\%$", m=q(mt, r"\mathrm{~t}"), h=q(h, C.M), t=q(tmin, C.MIN))
        ask, unit = "the electrical power drawn by the motor", r"$\mathrm{kW}$"
        steps = [fill(r"$W = mgh = (@m)(9.81)(@h) = @W \mathrm{~J}$.", m=num(mt * 1000), h=h, W=res(ev(W))),
                 fill(r"Useful power $P = W/t = @W/@t = @P \mathrm{~W}$.", W=res(ev(W)), t=num(tmin * 60), P=res(ev(Pout))),
                 fill(r"Input power $P/\eta = @P/@e \mathrm{~W} = @ANS \mathrm{~kW}$.", P=res(ev(Pout)), e=num(eff / 100))]
    text = [
        "Suppose @load. Calculate @ask.",
        "Find @ask when @load.",
        "What is @ask if @load?",
    ][v]
    return c.done(fill(text, load=load, ask=ask) + GTXT, unit, steps, ans)


# ------------------------------------------------------------------ momentum

@template("collision_1d", "momentum", PHYS, ("fund", "class"))
def collision_1d(c: Ctx):
    v = c.variant()
    if c.d < 3:
        m1 = c.u("m1", 0.5, 20)
        m2 = c.u("m2", 0.5, 20)
        v1 = c.u("v1", 1, 15)
        v2 = c.u("v2", -10, 10, 2)
        M1, M2, V1, V2 = X(m1), X(m2), X(v1), X(v2)
        units = (q(m1, C.KG), q(m2, C.KG), q(v1, C.MS), q(v2, C.MS))
    else:
        m1 = c.u("m1_g", 50, 2000)
        m2 = c.u("m2_g", 50, 2000)
        v1 = c.u("v1_cms", 50, 500)
        v2 = c.u("v2_cms", -300, 300, 2)
        M1, M2, V1, V2 = X(m1) / 1000, X(m2) / 1000, X(v1) / 100, X(v2) / 100
        units = (q(m1, C.G_), q(m2, C.G_), q(v1, r"\mathrm{~cm} \mathrm{~s}^{-1}"), q(v2, r"\mathrm{~cm} \mathrm{~s}^{-1}"))
    if v2 >= v1 * (1 if c.d < 3 else 1):
        raise Resample
    Vf = (M1 * V1 + M2 * V2) / (M1 + M2)
    setup = fill(r"A cart of mass @m1 moving at @v1 along a straight track collides with a second cart of mass @m2 whose velocity is @v2 (positive values point in the direction of the first cart's motion).",
                 m1=units[0], v1=units[1 + 1], m2=units[1], v2=units[3])
    if c.d == 1:
        ans = Vf
        kind = "The carts stick together."
        ask = "their common velocity just after the collision"
        steps = [r"Momentum is conserved: $v = \frac{m_1v_1 + m_2v_2}{m_1 + m_2}$.",
                 fill(r"$v = \frac{(@m1)(@v1) + (@m2)(@v2)}{@m1 + @m2} = @ANS \mathrm{~m} \mathrm{~s}^{-1}$.", m1=m1, v1=v1, m2=m2, v2=v2)]
        unit = MPS
    elif c.d == 2:
        K0 = M1 * V1**2 / 2 + M2 * V2**2 / 2
        Kf = (M1 + M2) * Vf**2 / 2
        ans = K0 - Kf
        kind = "The carts stick together."
        ask = "the kinetic energy lost in the collision"
        steps = [fill(r"$v = \frac{m_1v_1 + m_2v_2}{m_1 + m_2} = @vf \mathrm{~m} \mathrm{~s}^{-1}$.", vf=res(ev(Vf))),
                 fill(r"$K_\mathrm{i} = \tfrac{1}{2}m_1v_1^2 + \tfrac{1}{2}m_2v_2^2 = @K0 \mathrm{~J}$, $K_\mathrm{f} = \tfrac{1}{2}(m_1+m_2)v^2 = @Kf \mathrm{~J}$.",
                      K0=res(ev(K0)), Kf=res(ev(Kf))),
                 fill(r"$\Delta K = @K0 - @Kf = @ANS \mathrm{~J}$.", K0=res(ev(K0)), Kf=res(ev(Kf)))]
        unit = r"$\mathrm{J}$"
    else:
        ans = ((M1 - M2) * V1 + 2 * M2 * V2) / (M1 + M2)
        if abs(ev(ans)) < 0.02:
            raise Resample
        kind = "The collision is perfectly elastic."
        ask = "the velocity of the first cart just after the collision"
        steps = [fill(r"SI units: $m_1 = @a \mathrm{~kg}$, $m_2 = @b \mathrm{~kg}$, $v_1 = @c \mathrm{~m} \mathrm{~s}^{-1}$, $v_2 = @d \mathrm{~m} \mathrm{~s}^{-1}$.",
                      a=num(ev(M1)), b=num(ev(M2)), c=num(ev(V1)), d=num(ev(V2))),
                 r"Elastic collision: $v_1' = \frac{(m_1 - m_2)v_1 + 2m_2v_2}{m_1 + m_2}$.",
                 fill(r"$v_1' = \frac{(@a - @b)(@c) + 2(@b)(@d)}{@a + @b} = @ANS \mathrm{~m} \mathrm{~s}^{-1}$.",
                      a=num(ev(M1)), b=num(ev(M2)), c=num(ev(V1)), d=num(ev(V2)))]
        unit = MPS
    text = [
        "@setup @kind Find @ask.",
        "@kind @setup Calculate @ask.",
        "Consider a one-dimensional collision. @setup @kind What is @ask?",
    ][v]
    return c.done(fill(text, setup=setup, kind=kind, ask=ask), unit, steps, ans)


@template("ballistic_pendulum", "momentum", PHYS, ("fund",))
def ballistic_pendulum(c: Ctx):
    v = c.variant()
    m = c.u("m_g", 2, 50)
    M = c.u("M", 0.5, 10)
    mk = X(m) / 1000
    sit = fill(r"A bullet of mass @m is fired horizontally into a wooden block of mass @M hanging from light cords, and becomes embedded in it.",
               m=q(m, C.G_), M=q(M, C.KG))
    if c.d < 3:
        vb = c.u("v", 100, 900)
        V = mk * X(vb) / (mk + X(M))
        sit += fill(r" The bullet's speed is @v.", v=q(vb, C.MS))
        s1 = fill(r"Momentum conservation: $V = \frac{mv}{m + M} = \frac{(@m)(@v)}{@m + @M} = @V \mathrm{~m} \mathrm{~s}^{-1}$.",
                  m=num(m / 1000), v=vb, M=M, V=res(ev(V)))
        if c.d == 1:
            ans, ask, unit = V, "the speed of the block just after the impact", MPS
            steps = [s1.replace(res(ev(V)) + r" \mathrm", r"@ANS \mathrm")]
        else:
            ans = V**2 / (2 * C.g) * 100
            ask, unit = "the height through which the block swings up", r"$\mathrm{cm}$"
            steps = [s1, fill(r"Energy conservation: $h = V^2/(2g) = (@V)^2/(2 \cdot 9.81) = @h \mathrm{~m} = @ANS \mathrm{~cm}$.",
                              V=res(ev(V)), h=res(ev(ans / 100)))]
    else:
        h = c.u("h_cm", 2, 40)
        Vb = sp.sqrt(2 * C.g * X(h) / 100)
        ans = (mk + X(M)) / mk * Vb
        sit += fill(r" The block swings up through a height of @h.", h=q(h, C.CM))
        ask, unit = "the speed of the bullet before impact", MPS
        steps = [fill(r"After impact: $V = \sqrt{2gh} = \sqrt{2(9.81)(@h)} = @V \mathrm{~m} \mathrm{~s}^{-1}$.", h=num(h / 100), V=res(ev(Vb))),
                 fill(r"Momentum: $v = \frac{m + M}{m}V = \frac{@m + @M}{@m}(@V) = @ANS \mathrm{~m} \mathrm{~s}^{-1}$.",
                      m=num(m / 1000), M=M, V=res(ev(Vb)))]
    text = [
        "@sit Find @ask.",
        "Ballistic pendulum: @sit Calculate @ask.",
        "In a ballistic-pendulum experiment, the following happens. @sit What is @ask?",
    ][v]
    return c.done(fill(text, sit=sit, ask=ask) + GTXT, unit, steps, ans)


# ------------------------------------------------------------------ oscillations

@template("spring_mass_oscillator", "oscillations", PHYS, ("fund", "class"))
def spring_mass_oscillator(c: Ctx):
    v = c.variant()
    M = c.u("m", 0.1, 5.0)
    if c.d < 3:
        k = c.u("k", 10, 1000)
        sys_ = fill(r"A block of mass @m attached to a horizontal spring of force constant @k oscillates on a frictionless surface",
                    m=q(M, C.KG), k=q(k, C.NPM))
        if c.d == 1:
            ans = 2 * sp.pi * sp.sqrt(X(M) / X(k))
            ask, unit = "the period of the motion", r"$\mathrm{s}$"
            steps = [r"$T = 2\pi\sqrt{m/k}$.", fill(r"$T = 2\pi\sqrt{@m/@k} = @ANS \mathrm{~s}$.", m=M, k=k)]
        else:
            A = c.u("A_cm", 1, 30)
            sys_ += fill(r" with amplitude @A", A=q(A, C.CM))
            w = sp.sqrt(X(k) / X(M))
            ans = X(A) / 100 * w
            ask, unit = "the maximum speed of the block", MPS
            steps = [fill(r"$\omega = \sqrt{k/m} = \sqrt{@k/@m} = @w \mathrm{~rad} \mathrm{~s}^{-1}$.", k=k, m=M, w=res(ev(w))),
                     fill(r"$v_\mathrm{max} = A\omega = (@A)(@w) = @ANS \mathrm{~m} \mathrm{~s}^{-1}$.", A=num(A / 100), w=res(ev(w)))]
    else:
        m0 = c.u("m0_g", 50, 1000)
        dx = c.u("dx_cm", 1, 20)
        k = X(m0) / 1000 * C.g / (X(dx) / 100)
        sys_ = fill(r"Hanging a @m0 mass on a vertical spring stretches it by @dx. The mass is replaced by a block of @m, which is set oscillating",
                    m0=q(m0, C.G_), dx=q(dx, C.CM), m=q(M, C.KG))
        ans = 2 * sp.pi * sp.sqrt(X(M) / k)
        ask, unit = "the period of the oscillation", r"$\mathrm{s}$"
        steps = [fill(r"$k = mg/\Delta x = (@m0)(9.81)/@dx = @k \mathrm{~N} \mathrm{~m}^{-1}$.", m0=num(m0 / 1000), dx=num(dx / 100), k=res(ev(k))),
                 fill(r"$T = 2\pi\sqrt{M/k} = 2\pi\sqrt{@M/@k} = @ANS \mathrm{~s}$.", M=M, k=res(ev(k)))]
    text = [
        "@sys. Find @ask.",
        "Calculate @ask. @sys.",
        "Simple harmonic motion: @sys. What is @ask?",
    ][v]
    extra = GTXT if c.d == 3 else ""
    return c.done(fill(text, sys=sys_, ask=ask) + extra, unit, steps, ans)


@template("simple_pendulum", "oscillations", PHYS, ("fund", "class"))
def simple_pendulum(c: Ctx):
    v = c.variant()
    if c.d == 1:
        L = c.u("L", 0.1, 5.0)
        ans = 2 * sp.pi * sp.sqrt(X(L) / C.g)
        sit = fill(r"a simple pendulum of length @L swinging with small amplitude", L=q(L, C.M))
        ask, unit = "the period of the pendulum", r"$\mathrm{s}$"
        steps = [r"$T = 2\pi\sqrt{L/g}$.", fill(r"$T = 2\pi\sqrt{@L/9.81} = @ANS \mathrm{~s}$.", L=L)]
    elif c.d == 2:
        L = c.u("L", 0.2, 5.0)
        th = c.step("theta0_deg", 5, 60, 1)
        sit = fill(r"a simple pendulum of length @L released from rest at an angle of @th from the vertical", L=q(L, C.M), th=_deg(th))
        h = X(L) * (1 - sp.cos(_rad(th)))
        ans = sp.sqrt(2 * C.g * h)
        ask, unit = "the speed of the bob at the lowest point", MPS
        steps = [fill(r"Drop in height: $h = L(1 - \cos\theta_0) = @L(1 - \cos @th) = @h \mathrm{~m}$.", L=L, th=f"{num(th)}^{{\\circ}}", h=res(ev(h))),
                 fill(r"$v = \sqrt{2gh} = \sqrt{2(9.81)(@h)} = @ANS \mathrm{~m} \mathrm{~s}^{-1}$.", h=res(ev(h)))]
    else:
        L = c.u("L_cm", 20, 200)
        N = c.i("N", 10, 50)
        T1 = 2 * 3.14159 * (L / 100 / c.rng.uniform(1.5, 25)) ** 0.5
        t = sig_round(N * T1, 3)
        c.set(t=t)
        Tp = X(t) / N
        ans = 4 * sp.pi**2 * X(L) / 100 / Tp**2
        sit = fill(r"an astronaut's pendulum of length @L on another planet, which completes @N small oscillations in @t",
                   L=q(L, C.CM), N=str(N), t=q(t, C.S))
        ask, unit = "the gravitational acceleration at the planet's surface", r"$\mathrm{m} / \mathrm{s}^2$"
        steps = [fill(r"$T = t/N = @t/@N = @T \mathrm{~s}$.", t=t, N=str(N), T=res(ev(Tp))),
                 fill(r"$g = 4\pi^2L/T^2 = 4\pi^2(@L)/(@T)^2 = @ANS \mathrm{~m} \mathrm{~s}^{-2}$.", L=num(L / 100), T=res(ev(Tp)))]
    text = [
        "Consider @sit. Find @ask.",
        "Calculate @ask for @sit.",
        "What is @ask, given @sit?",
    ][v]
    extra = GTXT if c.d < 3 else ""
    return c.done(fill(text, sit=sit, ask=ask) + extra, unit, steps, ans)


# ------------------------------------------------------------------ circuits

@template("resistor_network", "circuits", PHYS, ("fund",))
def resistor_network(c: Ctx):
    v = c.variant()
    if c.d == 1:
        R1 = c.u("R1", 10, 1000, 2)
        R2 = c.u("R2", 10, 1000, 2)
        ans = X(R1) * X(R2) / (X(R1) + X(R2))
        sit = fill(r"resistors of @R1 and @R2 are connected in parallel", R1=q(R1, C.OHM), R2=q(R2, C.OHM))
        ask, unit = "the equivalent resistance of the combination", r"$\Omega$"
        steps = [r"Parallel: $R = \frac{R_1R_2}{R_1 + R_2}$.", fill(r"$R = \frac{(@a)(@b)}{@a + @b} = @ANS\ \Omega$.", a=R1, b=R2)]
    else:
        V = c.u("V", 1.5, 24, 2)
        R1 = c.u("R1", 10, 500, 2)
        R2 = c.u("R2", 10, 1000, 2)
        R3 = c.u("R3", 10, 1000, 2)
        Rp = X(R2) * X(R3) / (X(R2) + X(R3))
        I = X(V) / (X(R1) + Rp)
        sit = fill(r"an ideal @V battery drives current through a @R1 resistor in series with a parallel pair of @R2 and @R3 resistors",
                   V=q(V, C.V), R1=q(R1, C.OHM), R2=q(R2, C.OHM), R3=q(R3, C.OHM))
        steps = [fill(r"$R_{23} = \frac{(@b)(@c)}{@b + @c} = @Rp\ \Omega$, total $R = @a + @Rp = @Rt\ \Omega$.",
                      a=R1, b=R2, c=R3, Rp=res(ev(Rp)), Rt=res(ev(X(R1) + Rp)))]
        if c.d == 2:
            ans = I * 1000
            ask, unit = "the current drawn from the battery", r"$\mathrm{mA}$"
            steps.append(fill(r"$I = V/R = @V/@Rt \mathrm{~A} = @ANS \mathrm{~mA}$.", V=V, Rt=res(ev(X(R1) + Rp))))
        else:
            Vp = I * Rp
            ans = Vp**2 / X(R3) * 1000
            ask, unit = fill(r"the power dissipated in the @R3 resistor", R3=q(R3, C.OHM)), r"$\mathrm{mW}$"
            steps.append(fill(r"$I = V/R = @I \mathrm{~A}$; voltage across the pair $V_{23} = IR_{23} = @Vp \mathrm{~V}$.",
                              I=res(ev(I)), Vp=res(ev(Vp))))
            steps.append(fill(r"$P = V_{23}^2/R_3 = (@Vp)^2/@c \mathrm{~W} = @ANS \mathrm{~mW}$.", Vp=res(ev(Vp)), c=R3))
    text = [
        "In a circuit, @sit. Find @ask.",
        "Calculate @ask if @sit.",
        "Suppose @sit. What is @ask?",
    ][v]
    return c.done(fill(text, sit=sit, ask=ask), unit, steps, ans)


@template("rc_circuit", "circuits", PHYS, ("fund",))
def rc_circuit(c: Ctx):
    v = c.variant()
    R = c.u("R_kohm", 1, 100)
    Cf = c.u("C_uF", 0.5, 50)
    tau = X(R) * 1000 * X(Cf) / 10**6
    s1 = fill(r"$\tau = RC = (@R \times 10^3)(@C \times 10^{-6}) = @tau \mathrm{~s}$.", R=R, C=Cf, tau=res(ev(tau)))
    sit = fill(r"a @C capacitor is charged through a @R resistor from an ideal battery", C=q(Cf, C.UF), R=q(R, C.KOHM))
    if c.d == 1:
        ans = tau * 1000
        ask, unit = "the time constant of the circuit", r"$\mathrm{ms}$"
        steps = [r"$\tau = RC$.",
                 fill(r"$\tau = (@R \times 10^3)(@C \times 10^{-6}) \mathrm{~s} = @ANS \mathrm{~ms}$.", R=R, C=Cf)]
    elif c.d == 2:
        V0 = c.u("emf", 1.5, 24, 2)
        tt = c.u("t_tau", 0.2, 3.0, 2)
        t_ms = sig_round(tt * ev(tau) * 1000, 3)
        c.params.pop("t_tau")
        c.set(t_ms=t_ms)
        sit = fill(r"an initially uncharged @C capacitor is connected in series with a @R resistor to an ideal @V battery",
                   C=q(Cf, C.UF), R=q(R, C.KOHM), V=q(V0, C.V))
        ans = X(V0) * (1 - sp.exp(-X(t_ms) / 1000 / tau))
        ask, unit = fill(r"the voltage across the capacitor @t after the connection is made", t=q(t_ms, r"\mathrm{~ms}")), r"$\mathrm{V}$"
        steps = [s1, fill(r"$V_C = \mathcal{E}(1 - e^{-t/\tau}) = @V(1 - e^{-@t/@tau}) = @ANS \mathrm{~V}$.", V=V0,
                          t=num(t_ms / 1000), tau=res(ev(tau)))]
    else:
        pct = c.pick([50, 63, 75, 80, 90, 95, 99], "percent")
        ans = -tau * sp.log(1 - sp.Rational(pct, 100)) * 1000
        ask, unit = f"the time needed for the capacitor to reach {pct}% of its final charge", r"$\mathrm{ms}$"
        steps = [s1, fill(r"$q = Q_\mathrm{f}(1 - e^{-t/\tau})$, so $t = -\tau\ln(1 - @f)$.", f=num(pct / 100)),
                 fill(r"$t = -(@tau)\ln(@g) \mathrm{~s} = @ANS \mathrm{~ms}$.", tau=res(ev(tau)), g=num(round(1 - pct / 100, 2)))]
    text = [
        "In an RC circuit, @sit. Determine @ask.",
        "Calculate @ask when @sit.",
        "Suppose @sit. What is @ask?",
    ][v]
    return c.done(fill(text, sit=sit, ask=ask), unit, steps, ans)


# ------------------------------------------------------------------ optics

@template("thin_lens", "optics", PHYS, ("fund",))
def thin_lens(c: Ctx):
    v = c.variant()
    do = c.u("d_o", 5, 200)
    if c.d < 3:
        f = c.u("f", 5, 100) * c.pick([1, 1, -1])
        c.set(f=f)
        F = X(f)
        lens = fill(r"a thin @kind lens of focal length @f", kind="converging" if f > 0 else "diverging", f=q(abs(f), C.CM))
        steps = []
    else:
        n = c.u("n", 1.40, 1.80)
        R1 = c.u("R1", 5, 60)
        R2 = c.u("R2", 5, 60)
        F = 1 / ((X(n) - 1) * (1 / X(R1) + 1 / X(R2)))
        f = ev(F)
        lens = fill(r"a thin biconvex glass lens (refractive index @n) whose surfaces have radii of curvature @R1 and @R2", n=num(n),
                    R1=q(R1, C.CM), R2=q(R2, C.CM))
        steps = [fill(r"Lensmaker: $\frac{1}{f} = (n - 1)\left(\frac{1}{R_1} + \frac{1}{R_2}\right) = (@n1)\left(\frac{1}{@R1} + \frac{1}{@R2}\right)$, so $f = @f \mathrm{~cm}$.",
                      n1=num(round(n - 1, 4)), R1=R1, R2=R2, f=res(ev(F)))]
    if abs(do / f - 1) < 0.1:
        raise Resample
    di = 1 / (1 / F - 1 / X(do))
    s_di = fill(r"$\frac{1}{d_i} = \frac{1}{f} - \frac{1}{d_o} = \frac{1}{@f} - \frac{1}{@do}$, so $d_i = @di \mathrm{~cm}$.",
                f=res(ev(F)) if c.d == 3 else num(f), do=do, di=res(ev(di)))
    if c.d == 2:
        ho = c.u("h_o", 0.5, 10, 2)
        ans = -di / X(do) * X(ho)
        obj = fill(r"An object @h tall", h=q(ho, C.CM))
        ask, unit = "the height of the image (negative if inverted)", r"$\mathrm{cm}$"
        steps += [s_di, fill(r"$h_i = -\frac{d_i}{d_o}h_o = -\frac{@di}{@do}(@ho) = @ANS \mathrm{~cm}$.", di=res(ev(di)), do=do, ho=ho)]
    else:
        ans = di
        obj = "An object"
        ask, unit = "the image distance (positive for a real image on the far side of the lens)", r"$\mathrm{cm}$"
        steps += [s_di.replace(res(ev(di)) + r" \mathrm", r"@ANS \mathrm")]
        if c.d == 1:
            steps.insert(0, r"Thin-lens equation: $\frac{1}{d_o} + \frac{1}{d_i} = \frac{1}{f}$.")
    text = [
        "@obj is placed @do in front of @lens. Find @ask.",
        "Calculate @ask when @objl is placed @do from @lens.",
        "Using the thin-lens equation, determine @ask: @objl stands @do in front of @lens.",
    ][v]
    objl = obj[0].lower() + obj[1:]
    return c.done(fill(text, obj=obj, objl=objl, do=q(do, C.CM), lens=lens, ask=ask), unit, steps, ans)


MEDIA = [("water", 1.333), ("glass", 1.52), ("diamond", 2.42), ("acrylic", 1.49), ("ethanol", 1.361), ("quartz", 1.458),
         ("flint glass", 1.66)]


@template("snell_refraction", "optics", PHYS, ("fund",))
def snell_refraction(c: Ctx):
    v = c.variant()
    name, n2 = c.pick(MEDIA if c.d < 3 else [m for m in MEDIA if m[0] not in ("water", "ethanol")])
    c.set(medium=name)
    th1 = c.step("theta1_deg", 10, 80, 1)
    ths = f"{num(th1)}^{{\\circ}}"
    if c.d == 2:
        vm = sig_round(ev(C.c / X(n2)) / 1e8, 4) * 1e8
        vm = float(f"{vm:.4g}")
        c.set(v_medium=vm)
        N2 = C.c / X(vm)
        med = fill(r"@n, in which light travels at @v", n=name, v=q(vm, C.MS))
        steps = [fill(r"$n = c/v = (2.9979 \times 10^8)/(@v) = @n$.", v=num(vm), n=res(ev(N2)))]
    else:
        c.set(n2=n2)
        N2 = X(n2)
        med = fill(r"@n (refractive index @k)", n=name, k=num(n2))
        steps = []
    s2 = sp.sin(_rad(th1)) / N2
    th2 = sp.asin(s2)
    s_snell = fill(r"Snell: $\sin\theta_2 = \frac{\sin @t}{@n} = @s$, so $\theta_2 = @th2^{\circ}$.", t=ths, n=res(ev(N2)) if c.d == 2 else num(n2),
                   s=res(ev(s2)), th2=res(ev(th2 * 180 / sp.pi)))
    if c.d < 3:
        ans = th2 * 180 / sp.pi
        ask, unit = "the angle of refraction", r"${ }^{\circ}$"
        steps.append(s_snell.replace(res(ev(th2 * 180 / sp.pi)) + "^", "@ANS^"))
        where = "from air"
    else:
        t = c.u("t_mm", 2, 50)
        ans = X(t) * sp.sin(_rad(th1) - th2) / sp.cos(th2)
        ask, unit = fill(r"the lateral displacement of the beam on leaving a parallel-sided slab @t thick", t=q(t, C.MM)), r"$\mathrm{mm}$"
        steps.append(s_snell)
        steps.append(fill(r"$d = \frac{t\sin(\theta_1 - \theta_2)}{\cos\theta_2} = \frac{@t\sin(@a - @b)}{\cos @b} = @ANS \mathrm{~mm}$.",
                          t=t, a=ths, b=f"{res(ev(th2 * 180 / sp.pi))}^{{\\circ}}"))
        where = "from air"
    text = [
        "A ray of light passes @where into @med, striking the surface at @th to the normal. Find @ask.",
        "Calculate @ask for light travelling @where into @med with an angle of incidence of @th.",
        "Light is incident @where on @med at @th from the normal. What is @ask?",
    ][v]
    return c.done(fill(text, where=where, med=med, th=_deg(th1), ask=ask), unit, steps, ans)


# ------------------------------------------------------------------ gravitation

PLANETS = [("the Earth", 5.97e24, 6.37e6), ("Mars", 6.42e23, 3.39e6), ("the Moon", 7.35e22, 1.74e6), ("Jupiter", 1.90e27, 6.99e7),
           ("Venus", 4.87e24, 6.05e6)]


@template("circular_orbit", "gravitation", PHYS, ("fund", "class"))
def circular_orbit(c: Ctx):
    v = c.variant()
    name, Mp, Rp = c.pick(PLANETS)
    c.set(planet=name, M=Mp, R=Rp)
    body = fill(r"@n (mass @M, radius @R)", n=name, M=q(Mp, C.KG), R=q(Rp, C.M))
    GM = C.G * X(Mp)
    if c.d == 1:
        r = c.u("r_km", Rp / 1000 * 1.05, Rp / 1000 * 10)
        ans = sp.sqrt(GM / (X(r) * 1000)) / 1000
        sat = fill(r"a satellite in a circular orbit of radius @r about the centre of", r=q(r, C.KM))
        ask, unit = "the orbital speed of the satellite", r"$\mathrm{km} / \mathrm{s}$"
        steps = [r"Gravity supplies the centripetal force: $v = \sqrt{GM/r}$.",
                 fill(r"$v = \sqrt{(@G)(@M)/(@r \times 10^3)} \mathrm{~m} \mathrm{~s}^{-1} = @ANS \mathrm{~km} \mathrm{~s}^{-1}$.", G=GS, M=num(Mp), r=r)]
    elif c.d == 2:
        h = c.u("h_km", 100, Rp / 1000 * 3)
        r = X(Rp) + X(h) * 1000
        ans = 2 * sp.pi * sp.sqrt(r**3 / GM) / 60
        sat = fill(r"a satellite in a circular orbit at an altitude of @h above the surface of", h=q(h, C.KM))
        ask, unit = "the orbital period of the satellite", r"$\mathrm{min}$"
        steps = [fill(r"$r = R + h = @r \mathrm{~m}$.", r=res(ev(r))),
                 fill(r"$T = 2\pi\sqrt{r^3/(GM)} = 2\pi\sqrt{(@r)^3/((@G)(@M))} \mathrm{~s} = @ANS \mathrm{~min}$.", r=res(ev(r)), G=GS, M=num(Mp))]
    else:
        T_h = c.u("T_h", 2, 48)
        r = (GM * (X(T_h) * 3600) ** 2 / (4 * sp.pi**2)) ** F30(sp.Rational(1, 3))
        ans = (r - X(Rp)) / 1000
        if ev(ans) < 100:
            raise Resample
        sat = fill(r"a satellite that is to circle in a circular orbit with a period of @T around", T=q(T_h, r"\mathrm{~h}"))
        ask, unit = "the altitude of the orbit above the surface", r"$\mathrm{km}$"
        steps = [fill(r"$T = @T \times 3600 = @Ts \mathrm{~s}$; Kepler: $r = \left(\frac{GMT^2}{4\pi^2}\right)^{1/3}$.", T=T_h, Ts=num(T_h * 3600)),
                 fill(r"$r = \left(\frac{(@G)(@M)(@Ts)^2}{4\pi^2}\right)^{1/3} = @r \mathrm{~m}$.", G=GS, M=num(Mp), Ts=num(T_h * 3600), r=res(ev(r))),
                 fill(r"$h = r - R = @r - @R \mathrm{~m} = @ANS \mathrm{~km}$.", r=res(ev(r)), R=num(Rp))]
    text = [
        "Consider @sat @body. Calculate @ask.",
        "Find @ask for @sat @body.",
        "What is @ask? The object is @sat @body.",
    ][v]
    return c.done(fill(text, sat=sat, body=body, ask=ask) + r" Use $G = 6.674 \times 10^{-11} \mathrm{~N} \mathrm{~m}^2 \mathrm{~kg}^{-2}$.",
                  unit, steps, ans)


@template("escape_speed", "gravitation", PHYS, ("fund",))
def escape_speed(c: Ctx):
    v = c.variant()
    if c.d == 2:
        rho = c.u("rho", 1000, 6000)
        Rk = c.u("R_km", 500, 10000)
        R = X(Rk) * 1000
        M = sp.Rational(4, 3) * sp.pi * R**3 * X(rho)
        body = fill(r"a spherical moon of uniform density @rho and radius @R", rho=q(rho, r"\mathrm{~kg} \mathrm{~m}^{-3}"), R=q(Rk, C.KM))
        ans = sp.sqrt(2 * C.G * M / R) / 1000
        ask = "the escape speed from the surface"
        steps = [fill(r"$M = \tfrac{4}{3}\pi R^3\rho = \tfrac{4}{3}\pi(@R)^3(@rho) = @M \mathrm{~kg}$.", R=num(Rk * 1000), rho=rho, M=res(ev(M))),
                 fill(r"$v_\mathrm{esc} = \sqrt{2GM/R} = \sqrt{2(@G)(@M)/(@R)} \mathrm{~m} \mathrm{~s}^{-1} = @ANS \mathrm{~km} \mathrm{~s}^{-1}$.",
                      G=GS, M=res(ev(M)), R=num(Rk * 1000))]
    else:
        name, Mp, Rp = c.pick(PLANETS)
        c.set(planet=name, M=Mp, R=Rp)
        body = fill(r"@n (mass @M, radius @R)", n=name, M=q(Mp, C.KG), R=q(Rp, C.M))
        GM = C.G * X(Mp)
        if c.d == 1:
            ans = sp.sqrt(2 * GM / X(Rp)) / 1000
            ask = "the escape speed from the surface"
            steps = [r"$\tfrac{1}{2}mv^2 = GMm/R$ gives $v_\mathrm{esc} = \sqrt{2GM/R}$.",
                     fill(r"$v_\mathrm{esc} = \sqrt{2(@G)(@M)/(@R)} \mathrm{~m} \mathrm{~s}^{-1} = @ANS \mathrm{~km} \mathrm{~s}^{-1}$.", G=GS, M=num(Mp), R=num(Rp))]
        else:
            h = c.u("h_km", 100, Rp / 1000 * 2)
            r2 = X(Rp) + X(h) * 1000
            ans = sp.sqrt(2 * GM * (1 / X(Rp) - 1 / r2)) / 1000
            ask = fill(r"the minimum launch speed needed for a projectile fired vertically from its surface to reach an altitude of @h (ignore air resistance and the planet's rotation)",
                       h=q(h, C.KM))
            steps = [r"Energy: $\tfrac{1}{2}v^2 = GM\left(\frac{1}{R} - \frac{1}{R + h}\right)$.",
                     fill(r"$R + h = @r2 \mathrm{~m}$; $GM = @GM \mathrm{~m}^3 \mathrm{~s}^{-2}$.", r2=res(ev(r2)), GM=res(ev(GM))),
                     fill(r"$v = \sqrt{2(@GM)\left(\frac{1}{@R} - \frac{1}{@r2}\right)} \mathrm{~m} \mathrm{~s}^{-1} = @ANS \mathrm{~km} \mathrm{~s}^{-1}$.",
                          GM=res(ev(GM)), R=num(Rp), r2=res(ev(r2)))]
    text = [
        "Consider @body. Calculate @ask.",
        "Find @ask for @body.",
        "For @body, what is @ask?",
    ][v]
    return c.done(fill(text, body=body, ask=ask) + r" Use $G = 6.674 \times 10^{-11} \mathrm{~N} \mathrm{~m}^2 \mathrm{~kg}^{-2}$.",
                  r"$\mathrm{km} / \mathrm{s}$", steps, ans)


# ------------------------------------------------------------------ electrostatics

def _charge(x: float, unit: str = C.UC) -> str:
    return q(x, unit)


@template("coulomb_force", "electrostatics", PHYS, ("fund",))
def coulomb_force(c: Ctx):
    v = c.variant()
    q1 = c.u("q1_uC", 0.5, 20, 2) * c.pick([1, -1])
    q2 = c.u("q2_uC", 0.5, 20, 2) * c.pick([1, -1])
    c.set(q1_uC=q1, q2_uC=q2)
    d = c.u("d_cm", 2, 100)
    Q1, Q2, D = X(q1) / 10**6, X(q2) / 10**6, X(d) / 100
    pair = fill(r"point charges $q_1 = @a$ and $q_2 = @b$", a=_charge(q1)[1:-1], b=_charge(q2)[1:-1])
    if c.d == 1:
        ans = C.ke * abs(Q1 * Q2) / D**2
        sit = fill(r"Two @pair are @d apart in vacuum.", pair=pair, d=q(d, C.CM))
        ask, unit = "the magnitude of the electrostatic force between them", r"$\mathrm{N}$"
        steps = [r"Coulomb's law: $F = k\frac{|q_1q_2|}{r^2}$.",
                 fill(r"$F = (@k)\frac{(@a \times 10^{-6})(@b \times 10^{-6})}{(@d)^2} = @ANS \mathrm{~N}$.", k=KES, a=num(abs(q1)), b=num(abs(q2)),
                      d=num(d / 100))]
    elif c.d == 2:
        q3 = c.u("q3_uC", 0.5, 10, 2) * c.pick([1, -1])
        c.set(q3_uC=q3)
        xf = c.u("x_cm", 0.1 * d, 0.9 * d)
        Q3, Xp = X(q3) / 10**6, X(xf) / 100
        F = C.ke * Q3 * (Q1 / Xp**2 - Q2 / (D - Xp) ** 2)
        if abs(ev(F)) < 1e-3 * ev(C.ke * abs(Q3 * Q1) / Xp**2):
            raise Resample
        ans = abs(F)
        sit = fill(r"Two @pair are fixed @d apart. A third charge $q_3 = @c$ is placed on the line between them, @x from $q_1$.",
                   pair=pair, d=q(d, C.CM), c=_charge(q3)[1:-1], x=q(xf, C.CM))
        ask, unit = "the magnitude of the net electrostatic force on $q_3$", r"$\mathrm{N}$"
        F1 = C.ke * Q1 * Q3 / Xp**2
        F2 = -C.ke * Q2 * Q3 / (D - Xp) ** 2
        steps = [fill(r"Taking $+x$ from $q_1$ toward $q_2$: $F_{13} = kq_1q_3/r_{13}^2 = @F1 \mathrm{~N}$, $F_{23} = -kq_2q_3/r_{23}^2 = @F2 \mathrm{~N}$.",
                      F1=res(ev(F1)), F2=res(ev(F2))),
                 fill(r"$|F| = |@F1 + (@F2)| = @ANS \mathrm{~N}$.", F1=res(ev(F1)), F2=res(ev(F2)))]
    else:
        q1 = abs(q1)
        q2 = abs(q2) * (1 if q1 > 0 else 1)
        c.set(q1_uC=q1, q2_uC=q2)
        Q1, Q2 = X(q1), X(q2)
        pair = fill(r"positive point charges $q_1 = @a$ and $q_2 = @b$", a=_charge(q1)[1:-1], b=_charge(q2)[1:-1])
        ans = X(d) / (1 + sp.sqrt(Q2 / Q1))
        sit = fill(r"Two @pair are held @d apart.", pair=pair, d=q(d, C.CM))
        ask, unit = "the distance from $q_1$, on the segment joining them, at which a test charge would feel no net force", r"$\mathrm{cm}$"
        steps = [r"Balance: $\frac{kq_1}{x^2} = \frac{kq_2}{(d - x)^2}$, so $\frac{d - x}{x} = \sqrt{q_2/q_1}$.",
                 fill(r"$\sqrt{q_2/q_1} = \sqrt{@b/@a} = @s$.", a=num(q1), b=num(q2), s=res(ev(sp.sqrt(Q2 / Q1)))),
                 fill(r"$x = \frac{d}{1 + \sqrt{q_2/q_1}} = \frac{@d}{1 + @s} = @ANS \mathrm{~cm}$.", d=d, s=res(ev(sp.sqrt(Q2 / Q1))))]
    text = [
        "@sit Find @ask.",
        "Calculate @ask. @sit",
        "Electrostatics problem: @sit What is @ask?",
    ][v]
    return c.done(fill(text, sit=sit, ask=ask), unit, steps, ans)


@template("electric_field_point_charges", "electrostatics", PHYS, ("fund",))
def electric_field_point_charges(c: Ctx):
    v = c.variant()
    NC_ = r"\mathrm{~nC}"
    if c.d == 1:
        qq = c.u("q_nC", 0.5, 50, 2) * c.pick([1, -1])
        c.set(q_nC=qq)
        r = c.u("r_cm", 1, 100)
        ans = C.ke * abs(X(qq)) / 10**9 / (X(r) / 100) ** 2
        sit = fill(r"a point @r from a point charge of @q in vacuum", q=q(qq, NC_), r=q(r, C.CM))
        steps = [r"$E = k\frac{|q|}{r^2}$.",
                 fill(r"$E = (@k)\frac{@q \times 10^{-9}}{(@r)^2} = @ANS \mathrm{~N} \mathrm{~C}^{-1}$.", k=KES, q=num(abs(qq)), r=num(r / 100))]
    elif c.d == 2:
        q1 = c.u("q1_nC", 0.5, 50, 2) * c.pick([1, -1])
        q2 = c.u("q2_nC", 0.5, 50, 2) * c.pick([1, -1])
        c.set(q1_nC=q1, q2_nC=q2)
        d = c.u("d_cm", 2, 100)
        if abs(q1 - q2) < 0.1:
            raise Resample
        a = X(d) / 200
        E1 = C.ke * X(q1) / 10**9 / a**2
        E2 = -C.ke * X(q2) / 10**9 / a**2
        ans = abs(E1 + E2)
        sit = fill(r"the midpoint between point charges $q_1 = @a$ and $q_2 = @b$ that are @d apart in vacuum",
                   a=q(q1, NC_)[1:-1], b=q(q2, NC_)[1:-1], d=q(d, C.CM))
        steps = [fill(r"Each charge is $r = @r \mathrm{~m}$ away; with $+x$ toward $q_2$: $E_1 = kq_1/r^2 = @E1$, $E_2 = -kq_2/r^2 = @E2 \mathrm{~N} \mathrm{~C}^{-1}$.",
                      r=num(d / 200), E1=res(ev(E1)), E2=res(ev(E2))),
                 fill(r"$E = |@E1 + (@E2)| = @ANS \mathrm{~N} \mathrm{~C}^{-1}$.", E1=res(ev(E1)), E2=res(ev(E2)))]
    else:
        qq = c.u("q_nC", 0.5, 50, 2)
        d = c.u("d_cm", 1, 20)
        y = c.u("y_cm", 1, 50)
        a = X(d) / 200
        Y = X(y) / 100
        r2 = a**2 + Y**2
        ans = 2 * C.ke * X(qq) / 10**9 * a / r2 ** sp.Rational(3, 2)
        sit = fill(r"a point on the perpendicular bisector of a dipole, @y from its centre; the dipole consists of charges $\pm @q$ separated by @d",
                   y=q(y, C.CM), q=q(qq, NC_)[1:-1], d=q(d, C.CM))
        steps = [fill(r"Distance to each charge: $r^2 = (@a)^2 + (@y)^2 = @r2 \mathrm{~m}^2$.", a=num(d / 200), y=num(y / 100), r2=res(ev(r2))),
                 r"The components along the bisector cancel; those parallel to the axis add: $E = 2\frac{kq}{r^2}\cdot\frac{d/2}{r}$.",
                 fill(r"$E = \frac{2(@k)(@q \times 10^{-9})(@a)}{(@r2)^{3/2}} = @ANS \mathrm{~N} \mathrm{~C}^{-1}$.", k=KES, q=num(qq), a=num(d / 200),
                      r2=res(ev(r2)))]
    text = [
        "Find the magnitude of the electric field at @sit.",
        "Calculate the electric field strength at @sit.",
        "What is the magnitude of the electric field at @sit?",
    ][v]
    return c.done(fill(text, sit=sit), r"$\mathrm{N} / \mathrm{C}$", steps, ans)
