import keras
import tensorflow as tf


def discriminator_loss(logits_real, logits_fake):
    real_term = -tf.reduce_mean(tf.math.log_sigmoid(logits_real))
    fake_term = -tf.reduce_mean(tf.math.log_sigmoid(-logits_fake))
    return real_term + fake_term


def generator_loss(logits_fake):
    return -tf.reduce_mean(tf.math.log_sigmoid(logits_fake))


def build_generator(latent_dim, hidden_units, data_dim):
    inputs = keras.Input((latent_dim,))
    x = inputs
    for k in range(2):
        x = keras.layers.Dense(hidden_units, activation=keras.activations.relu, name=f"hidden_{k}")(x)
    return keras.Model(inputs, keras.layers.Dense(data_dim, name="out")(x))


def build_discriminator(data_dim, hidden_units):
    inputs = keras.Input((data_dim,))
    x = inputs
    for k in range(2):
        x = keras.layers.Dense(hidden_units, activation=keras.activations.relu, name=f"hidden_{k}")(x)
    return keras.Model(inputs, keras.layers.Dense(1, name="logit")(x))


def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape(persistent=True) as tape:
        fake = generator(noise, training=True)
        d_loss = discriminator_loss(discriminator(real, training=True), discriminator(fake, training=True))
    d_grads = tape.gradient(d_loss, discriminator.trainable_variables)
    del tape
    d_optimizer.apply_gradients(list(zip(d_grads, discriminator.trainable_variables)))
    with tf.GradientTape() as tape:
        g_loss = generator_loss(discriminator(generator(noise, training=True), training=True))
    g_grads = tape.gradient(g_loss, generator.trainable_variables)
    g_optimizer.apply_gradients(list(zip(g_grads, generator.trainable_variables)))
    return d_loss, g_loss
